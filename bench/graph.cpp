// Task-graph workloads of ../shared/BENCHMARKS.md: a taskpipe::graph against a oneTBB flow graph of continue_nodes
// and the serial baseline (the same task bodies in topological order), on 2 worker threads. Each graph is built once
// and run once per iteration; the timing covers starting the run and waiting for its end. Every task body bumps its
// own counter, checked after the runs. Names `<workload>/<impl>/<tasks>`.
//
// `build_run_destroy/<impl>/{wavefront,linear_chain}` is Taskflow's method (its benchmarks/wavefront and
// benchmarks/linear_chain time construction, one run and destruction together), so the cost of building a graph
// counts: each iteration builds the graph (tasks, edges, the handle vector a user keeps), runs it once and destroys
// it. Taskflow itself is not packaged in Debian 12, so it is not built here; the rival is oneTBB's flow graph
// (continue_nodes, each its own heap object, as a oneTBB user writes it). The ratio table shows these as
// `build_run_destroy/wavefront/256` and `build_run_destroy/linear_chain/65536`. Example:
//   build/bench/bench/graph --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/ratio_report.hpp"
#include "common/runtimes.hpp"
#include "taskpipe/graph/graph.hpp"

namespace {

constexpr int parallel_workers = 2;

// A DAG whose edges all go from a lower to a higher index, so index order is a topological order.
struct dag {
  std::size_t size = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
};

dag wavefront(std::uint32_t side) {
  dag d{std::size_t{side} * side, {}};
  for (std::uint32_t i = 0; i < side; ++i) {
    for (std::uint32_t j = 0; j < side; ++j) {
      const std::uint32_t id = i * side + j;
      if (j + 1 < side) {
        d.edges.emplace_back(id, id + 1);
      }
      if (i + 1 < side) {
        d.edges.emplace_back(id, id + side);
      }
    }
  }
  return d;
}

dag linear_chain(std::uint32_t n) {
  dag d{n, {}};
  for (std::uint32_t i = 0; i + 1 < n; ++i) {
    d.edges.emplace_back(i, i + 1);
  }
  return d;
}

dag binary_tree(std::uint32_t n) {
  dag d{n, {}};
  for (std::uint32_t i = 0; 2 * i + 1 < n; ++i) {
    d.edges.emplace_back(i, 2 * i + 1);
    if (2 * i + 2 < n) {
      d.edges.emplace_back(i, 2 * i + 2);
    }
  }
  return d;
}

dag embarrassing(std::uint32_t n) { return {n, {}}; }

// Levels of 100 tasks; every task past the first level has 1 to 3 distinct random predecessors in the level above.
dag graph_traversal(std::uint32_t n) {
  constexpr std::uint32_t width = 100;
  dag d{n, {}};
  std::mt19937 rng{2024};
  for (std::uint32_t id = width; id < n; ++id) {
    const std::uint32_t above = (id / width - 1) * width;
    const std::uint32_t k = 1 + rng() % 3;
    const std::uint32_t first = static_cast<std::uint32_t>(rng() % width);
    for (std::uint32_t e = 0; e < k; ++e) {
      const std::uint32_t from = above + (first + e * 37) % width;
      if (from < id) {
        d.edges.emplace_back(from, id);
      }
    }
  }
  return d;
}

taskpipe::executor& taskpipe_executor() { return taskpipe::bench::shared_executor(parallel_workers); }
tbb::task_arena& tbb_arena() { return taskpipe::bench::shared_arena(parallel_workers); }

void check_counts(benchmark::State& state, const std::vector<std::uint32_t>& counts) {
  const auto want = static_cast<std::uint32_t>(state.iterations());
  for (const std::uint32_t c : counts) {
    if (c != want) {
      state.SkipWithError("a task ran the wrong number of times");
      return;
    }
  }
}

void run_serial(benchmark::State& state, const dag& d) {
  std::vector<std::uint32_t> counts(d.size, 0);
  for (auto _ : state) {
    for (std::size_t i = 0; i < d.size; ++i) {
      ++counts[i];
      benchmark::ClobberMemory();  // keep the loop from folding into one add per task, as the tasks could not
    }
  }
  check_counts(state, counts);
}

void run_taskpipe(benchmark::State& state, const dag& d) {
  std::vector<std::uint32_t> counts(d.size, 0);
  taskpipe::graph g;
  std::vector<taskpipe::task_handle> tasks;
  tasks.reserve(d.size);
  for (std::size_t i = 0; i < d.size; ++i) {
    tasks.push_back(g.emplace([c = &counts[i]] { ++*c; }));
  }
  for (const auto& [from, to] : d.edges) {
    tasks[from].precede(tasks[to]);
  }
  auto& ex = taskpipe_executor();
  for (auto _ : state) {
    ex.run(g).get();
  }
  check_counts(state, counts);
}

void run_tbb(benchmark::State& state, const dag& d) {
  using node = tbb::flow::continue_node<tbb::flow::continue_msg>;
  std::vector<std::uint32_t> counts(d.size, 0);
  auto& arena = tbb_arena();
  std::unique_ptr<tbb::flow::graph> g;
  std::vector<std::unique_ptr<node>> nodes;
  std::vector<node*> sources;
  arena.execute([&] {  // built inside the arena, so the graph's tasks run on its 2 threads
    g = std::make_unique<tbb::flow::graph>();
    nodes.reserve(d.size);
    std::vector<bool> has_pred(d.size, false);
    for (std::size_t i = 0; i < d.size; ++i) {
      nodes.push_back(std::make_unique<node>(*g, [c = &counts[i]](const tbb::flow::continue_msg&) { ++*c; }));
    }
    for (const auto& [from, to] : d.edges) {
      tbb::flow::make_edge(*nodes[from], *nodes[to]);
      has_pred[to] = true;
    }
    for (std::size_t i = 0; i < d.size; ++i) {
      if (!has_pred[i]) {
        sources.push_back(nodes[i].get());
      }
    }
  });
  for (auto _ : state) {
    arena.execute([&] {
      for (node* s : sources) {
        s->try_put(tbb::flow::continue_msg{});
      }
      g->wait_for_all();
    });
  }
  check_counts(state, counts);
  arena.execute([&] {
    nodes.clear();
    g.reset();
  });
}

// Taskflow's method: build, run once, destroy, all timed.
void build_run_destroy_taskpipe(benchmark::State& state, const dag& d) {
  std::vector<std::uint32_t> counts(d.size, 0);
  auto& ex = taskpipe_executor();
  for (auto _ : state) {
    taskpipe::graph g;
    std::vector<taskpipe::task_handle> tasks;
    tasks.reserve(d.size);
    for (std::size_t i = 0; i < d.size; ++i) {
      tasks.push_back(g.emplace([c = &counts[i]] { ++*c; }));
    }
    for (const auto& [from, to] : d.edges) {
      tasks[from].precede(tasks[to]);
    }
    ex.run(g).get();
  }
  check_counts(state, counts);
}

void build_run_destroy_tbb(benchmark::State& state, const dag& d) {
  using node = tbb::flow::continue_node<tbb::flow::continue_msg>;
  std::vector<std::uint32_t> counts(d.size, 0);
  auto& arena = tbb_arena();
  for (auto _ : state) {
    arena.execute([&] {
      tbb::flow::graph g;
      std::vector<std::unique_ptr<node>> nodes;
      nodes.reserve(d.size);
      std::vector<bool> has_pred(d.size, false);
      for (std::size_t i = 0; i < d.size; ++i) {
        nodes.push_back(std::make_unique<node>(g, [c = &counts[i]](const tbb::flow::continue_msg&) { ++*c; }));
      }
      for (const auto& [from, to] : d.edges) {
        tbb::flow::make_edge(*nodes[from], *nodes[to]);
        has_pred[to] = true;
      }
      for (std::size_t i = 0; i < d.size; ++i) {
        if (!has_pred[i]) {
          nodes[i]->try_put(tbb::flow::continue_msg{});
        }
      }
      g.wait_for_all();
      nodes.clear();  // before the graph they belong to
    });
  }
  check_counts(state, counts);
}

void register_build_run_destroy() {
  struct workload {
    const char* name;
    std::uint32_t size;
    dag (*make)(std::uint32_t);
    std::int64_t arg;
  };
  const workload workloads[] = {
      {"wavefront", 256, &wavefront, 256},
      {"linear_chain", 1U << 16, &linear_chain, 1 << 16},
  };
  for (const auto& w : workloads) {
    auto d = std::make_shared<dag>(w.make(w.size));
    benchmark::RegisterBenchmark((std::string("build_run_destroy/taskpipe/") + w.name).c_str(),
                                 [d](benchmark::State& s) {
                                   build_run_destroy_taskpipe(s, *d);
                                   taskpipe::bench::settle_idle_workers();
                                 })
        ->Arg(w.arg)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string("build_run_destroy/tbb/") + w.name).c_str(),
                                 [d](benchmark::State& s) {
                                   build_run_destroy_tbb(s, *d);
                                   taskpipe::bench::settle_idle_workers();
                                 })
        ->Arg(w.arg)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
}

void register_all() {
  struct workload {
    const char* name;
    std::uint32_t size;
    dag (*make)(std::uint32_t);
    std::int64_t arg;
  };
  const workload workloads[] = {
      {"wavefront", 256, &wavefront, 256},
      {"linear_chain", 1U << 16, &linear_chain, 1 << 16},
      {"binary_tree", 1U << 16, &binary_tree, 1 << 16},
      {"embarrassing", 1U << 20, &embarrassing, 1 << 20},
      {"graph_traversal", 100'000, &graph_traversal, 100'000},
  };
  for (const auto& w : workloads) {
    auto d = std::make_shared<dag>(w.make(w.size));
    benchmark::RegisterBenchmark((std::string(w.name) + "/serial").c_str(),
                                 [d](benchmark::State& s) {
                                   run_serial(s, *d);
                                   taskpipe::bench::settle_idle_workers();
                                 })
        ->Arg(w.arg)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string(w.name) + "/taskpipe").c_str(),
                                 [d](benchmark::State& s) {
                                   run_taskpipe(s, *d);
                                   taskpipe::bench::settle_idle_workers();
                                 })
        ->Arg(w.arg)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string(w.name) + "/tbb").c_str(),
                                 [d](benchmark::State& s) {
                                   run_tbb(s, *d);
                                   taskpipe::bench::settle_idle_workers();
                                 })
        ->Arg(w.arg)
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  register_build_run_destroy();
  return taskpipe::bench::run_with_ratios(argc, argv, {"serial", "taskpipe", "tbb"}, "tbb");
}
