// Conformance tests for taskpipe::graph: ordering on random DAGs, reuse, composition, cycles, exceptions,
// cancellation, Graphviz output.
#include "taskpipe/graph/graph.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/random_dag.hpp"
#include "taskpipe/error.hpp"

namespace {

using taskpipe::test::random_dag;
using taskpipe::test::stamp_log;

std::vector<taskpipe::task_handle> build(taskpipe::graph& g, const random_dag& d, stamp_log& log) {
  std::vector<taskpipe::task_handle> t;
  for (std::size_t i = 0; i < d.size; ++i) {
    t.push_back(g.emplace([&log, i] { log.run(i); }));
  }
  for (const auto& [from, to] : d.edges) {
    t[from].precede(t[to]);
  }
  return t;
}

class graph_random : public testing::TestWithParam<std::size_t> {};

// Run from a worker (waiting helps), so the test measures the graph engine rather than cross-thread wake-ups.
TEST_P(graph_random, ten_thousand_random_dags_run_each_task_once_after_its_predecessors) {
  taskpipe::executor ex{{.workers = GetParam()}};
  const std::string problem = ex.async([&ex]() -> std::string {
                                  std::mt19937_64 rng{ex.num_workers() * 7919};
                                  for (int round = 0; round < 10'000; ++round) {
                                    const auto d =
                                        random_dag::make(rng, round % 10 == 0 ? 100 : 24, round % 3 == 0 ? 0.3 : 0.08);
                                    stamp_log log{d.size};
                                    taskpipe::graph g;
                                    build(g, d, log);
                                    const int runs = round % 7 == 0 ? 3 : 1;
                                    ex.run_n(g, static_cast<std::size_t>(runs)).get();
                                    if (std::string p = log.check(d, runs); !p.empty()) {
                                      return "round " + std::to_string(round) + ": " + p;
                                    }
                                  }
                                  return "";
                                }).get();
  EXPECT_EQ(problem, "");
}

TEST_P(graph_random, runs_started_from_outside_the_workers) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam()};
  for (int round = 0; round < 300; ++round) {
    const auto d = random_dag::make(rng, 64, 0.1);
    stamp_log log{d.size};
    taskpipe::graph g;
    build(g, d, log);
    ex.run(g).get();
    ASSERT_EQ(log.check(d, 1), "") << "round " << round;
  }
}

INSTANTIATE_TEST_SUITE_P(workers, graph_random, testing::Values(1U, 2U, 8U));

TEST(graph, an_empty_graph_and_zero_runs_complete_at_once) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph g;
  ex.run(g).get();
  int n = 0;
  g.emplace([&] { ++n; });
  ex.run_n(g, 0).get();
  EXPECT_EQ(n, 0);
}

TEST(graph, run_until_checks_the_predicate_before_every_run) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph g;
  std::atomic<int> a{0};
  std::atomic<int> b{0};
  g.emplace([&] { ++a; }).precede(g.emplace([&] { ++b; }));
  int checks = 0;
  ex.run_until(g, [&] { return ++checks > 5; }).get();
  EXPECT_EQ(a.load(), 5);
  EXPECT_EQ(b.load(), 5);
  EXPECT_EQ(checks, 6);
  ex.run_until(g, [] { return true; }).get();
  EXPECT_EQ(a.load(), 5);
}

TEST(graph, a_graph_can_be_rerun_and_edited_between_runs) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph g;
  std::vector<int> order;
  auto a = g.emplace([&] { order.push_back(1); });
  for (int i = 0; i < 50; ++i) {
    ex.run(g).get();
  }
  EXPECT_EQ(order.size(), 50U);
  order.clear();
  auto b = g.emplace([&] { order.push_back(2); });
  b.precede(a);
  ex.run(g).get();
  EXPECT_EQ(order, (std::vector<int>{2, 1}));
}

TEST(graph, starting_a_running_graph_throws) {
  taskpipe::executor ex{{.workers = 1}};
  taskpipe::graph g{"busy"};
  std::atomic<bool> go{false};
  g.emplace([&] {
    while (!go.load()) {
      std::this_thread::yield();
    }
  });
  auto f = ex.run(g);
  EXPECT_THROW(ex.run(g), taskpipe::error);
  go = true;
  f.get();
}

TEST(graph, composition_runs_the_module_between_its_neighbours) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<int> clock{0};
  int before = -1;
  int inner1 = -1;
  int inner2 = -1;
  int after = -1;
  taskpipe::graph inner{"inner"};
  inner.emplace([&] { inner1 = clock++; }).precede(inner.emplace([&] { inner2 = clock++; }));
  taskpipe::graph outer{"outer"};
  auto m = outer.composed_of(inner);
  outer.emplace([&] { before = clock++; }).precede(m);
  m.precede(outer.emplace([&] { after = clock++; }));
  for (int i = 0; i < 20; ++i) {
    ex.run(outer).get();
    EXPECT_LT(before, inner1);
    EXPECT_LT(inner1, inner2);
    EXPECT_LT(inner2, after);
  }
  // Nested twice, run many times in a row.
  taskpipe::graph top{"top"};
  auto m1 = top.composed_of(outer);
  auto m2 = top.emplace([] {});
  m1.precede(m2);
  clock = 0;
  ex.run_n(top, 10).get();
  EXPECT_EQ(clock.load(), 40);
}

TEST(graph, a_graph_containing_itself_fails_with_a_taskpipe_error) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph g{"self"};
  g.composed_of(g);
  EXPECT_THROW(ex.run(g).get(), taskpipe::error);
  EXPECT_THROW(ex.run(g).get(), taskpipe::error);  // and the graph is usable (not stuck running) afterwards
}

TEST(graph, a_cycle_is_reported_naming_its_tasks) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph g{"loop"};
  auto s = g.emplace([] {}).name("start");
  auto a = g.emplace([] {}).name("a");
  auto b = g.emplace([] {}).name("b");
  auto c = g.emplace([] {}).name("c");
  s.precede(a);
  a.precede(b);
  b.precede(c);
  c.precede(a);
  try {
    ex.run(g).get();
    FAIL() << "no error";
  } catch (const taskpipe::error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("loop"), std::string::npos) << what;
    const bool named = what.find("a -> b -> c -> a") != std::string::npos ||
                       what.find("b -> c -> a -> b") != std::string::npos ||
                       what.find("c -> a -> b -> c") != std::string::npos;
    EXPECT_TRUE(named) << what;
    EXPECT_EQ(what.find("start"), std::string::npos) << what;
  }
  taskpipe::graph outer;
  outer.composed_of(g);
  EXPECT_THROW(ex.run(outer).get(), taskpipe::error);
}

TEST(graph, an_exception_skips_tasks_not_started_and_reaches_the_future) {
  taskpipe::executor ex{{.workers = 2}};
  std::mt19937_64 rng{42};
  for (int round = 0; round < 300; ++round) {
    const std::size_t n = 1 + rng() % 60;
    const std::size_t bad = rng() % n;
    taskpipe::graph g;
    std::vector<taskpipe::task_handle> t;
    std::atomic<int> after_bad{0};
    for (std::size_t i = 0; i < n; ++i) {
      t.push_back(g.emplace([&, i] {
        if (i == bad) {
          throw std::runtime_error("task " + std::to_string(i));
        }
        if (i > bad) {
          ++after_bad;
        }
      }));
      if (i > 0) {
        t[i - 1].precede(t[i]);  // a chain: nothing after the bad task may run
      }
    }
    try {
      ex.run_n(g, 2).get();
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "task " + std::to_string(bad));
    }
    EXPECT_EQ(after_bad.load(), 0);
  }
}

TEST(graph, an_exception_in_a_module_fails_the_outer_run) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph inner;
  inner.emplace([] { throw std::logic_error("inner"); });
  taskpipe::graph outer;
  bool after = false;
  outer.composed_of(inner).precede(outer.emplace([&] { after = true; }));
  EXPECT_THROW(ex.run(outer).get(), std::logic_error);
  EXPECT_FALSE(after);
}

TEST(graph, cancel_skips_the_rest_and_the_next_run_is_not_cancelled) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph g;
  std::atomic<int> ran{0};
  auto first = g.emplace([&](taskpipe::stop_token tok) {
    g.cancel();
    EXPECT_TRUE(tok.stop_requested());
    ++ran;
  });
  first.precede(g.emplace([&] { ++ran; }));
  ex.run_n(g, 5).get();
  EXPECT_EQ(ran.load(), 1);
  ran = 0;
  first.name("x");
  taskpipe::graph h;
  h.emplace([&] { ++ran; });
  ex.run(h).get();
  EXPECT_EQ(ran.load(), 1);
}

TEST(graph, dump_dot_lists_tasks_and_edges) {
  taskpipe::graph g{"demo"};
  auto a = g.emplace([] {}).name("load \"x\"");
  auto b = g.emplace([] {});
  a.precede(b);
  taskpipe::graph inner{"inner"};
  g.composed_of(inner).succeed(b);
  const std::string dot = g.dump_dot();
  EXPECT_NE(dot.find("digraph \"demo\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("t0 [label=\"load \\\"x\\\"\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("t1 [label=\"#1\"]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("t2 [label=\"inner\", shape=box3d]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("t0 -> t1;"), std::string::npos) << dot;
  EXPECT_NE(dot.find("t1 -> t2;"), std::string::npos) << dot;
}

TEST(graph, linking_tasks_of_different_graphs_throws) {
  taskpipe::graph g;
  taskpipe::graph h;
  auto a = g.emplace([] {});
  auto b = h.emplace([] {});
  EXPECT_THROW(a.precede(b), taskpipe::error);
}

// Started from a thread that is not a worker, a wide graph must reach both workers. The first task of each run waits
// (up to 10 s) until some task of the run has run on another worker: an engine that ran the whole graph on one worker
// would keep it waiting out the 10 s and fail; one that spreads the work releases it at once.
TEST(graph, a_wide_graph_started_from_outside_spreads_over_the_workers) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph g;
  std::atomic<int> n{0};
  std::atomic<bool> first_taken{false};
  std::atomic<std::size_t> first_worker{~std::size_t{0}};
  std::atomic<bool> other_worker_ran{false};
  std::atomic<int> runs_spread{0};
  for (int i = 0; i < 5000; ++i) {
    g.emplace([&] {
      const std::size_t me = ex.this_worker_index().value_or(~std::size_t{0});
      if (!first_taken.exchange(true)) {
        first_worker.store(me);
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{10};
        while (!other_worker_ran.load() && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::yield();
        }
        if (other_worker_ran.load()) {
          runs_spread.fetch_add(1);
        }
      } else if (me != first_worker.load()) {
        other_worker_ran.store(true);
      }
      ++n;
    });
  }
  for (int run = 0; run < 3; ++run) {
    first_taken.store(false);
    first_worker.store(~std::size_t{0});
    other_worker_ran.store(false);
    ex.run(g).get();
  }
  EXPECT_EQ(n.load(), 15000);
  EXPECT_EQ(runs_spread.load(), 3) << "a run kept its tasks on one worker";
}

}  // namespace
