// Fork-join workloads of ../shared/BENCHMARKS.md: taskpipe against oneTBB's task_group and the serial baseline,
// the parallel ones on 2 worker threads; matmul also as `halves` (two equal halves on two plain threads, the
// no-scheduler reference of common/static_halves.hpp). Names `<workload>/<impl>/<size>`. Example:
//   build/bench/bench/forkjoin --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "common/ratio_report.hpp"
#include "common/runtimes.hpp"
#include "common/static_halves.hpp"
#include "forkjoin.hpp"

namespace {

namespace wl = taskpipe::workloads;
constexpr int parallel_workers = 2;

struct tbb_forker {
  struct group {
    explicit group(tbb_forker& /*f*/) noexcept {}
    template <class F>
    void spawn(F&& f) {
      g.run(std::forward<F>(f));
    }
    void wait() { g.wait(); }
    tbb::task_group g;
  };
};

taskpipe::executor& taskpipe_executor(int workers) {
  return taskpipe::bench::shared_executor(static_cast<std::size_t>(workers));
}
// One set of matrices per size for every implementation and repetition: the same addresses, so the same cache
// behaviour; C keeps accumulating, which changes nothing in the timing.
wl::matmul_inputs& shared_matmul_inputs(std::size_t n) {
  static std::map<std::size_t, wl::matmul_inputs> inputs;
  return inputs.try_emplace(n, n).first->second;
}

tbb::task_arena& tbb_arena(int workers) { return taskpipe::bench::shared_arena(static_cast<std::size_t>(workers)); }

// Runs `body(forker)` under the implementation `impl` and checks the result against `expect`.
template <class Body>
void run_impl(benchmark::State& state, const std::string& impl, int workers, std::int64_t expect, Body body) {
  auto check = [&](std::int64_t got) {
    if (got != expect) {
      state.SkipWithError("wrong result");
    }
  };
  if (impl == "serial") {
    wl::serial_forker fk;
    for (auto _ : state) {
      check(body(fk));
    }
  } else if (impl == "taskpipe") {
    // The root runs on a worker, as oneTBB's runs inside its arena: the calling thread only waits.
    auto& ex = taskpipe_executor(workers);
    wl::taskpipe_forker fk{&ex};
    for (auto _ : state) {
      check(ex.async([&] { return body(fk); }).get());
    }
  } else {
    tbb_forker fk;
    auto& arena = tbb_arena(workers);
    for (auto _ : state) {
      check(arena.execute([&] { return body(fk); }));
    }
  }
  taskpipe::bench::settle_idle_workers();
}

// matmul cut by rows of C into two halves of equal cost, each multiplied serially (same leaf kernel, same order of
// leaves as the serial run) on its own thread: the reference of common/static_halves.hpp.
void matmul_halves(benchmark::State& state) {
  wl::matmul_inputs& in = shared_matmul_inputs(static_cast<std::size_t>(state.range(0)));
  const std::size_t h = in.n / 2;
  const std::size_t ld = in.ld;
  auto half = [&in, h, ld](std::size_t row_block) {
    wl::serial_forker fk;
    const float* a = in.a() + row_block * h * ld;
    const float* b = in.b();
    float* c = in.c() + row_block * h * ld;
    // C_i0 += A_i0 B_00 + A_i1 B_10 and C_i1 += A_i0 B_01 + A_i1 B_11, in the serial recursion's order.
    wl::matmul(fk, a, b, c, h, ld);
    wl::matmul(fk, a, b + h, c + h, h, ld);
    wl::matmul(fk, a + h, b + h * ld, c, h, ld);
    wl::matmul(fk, a + h, b + h * ld + h, c + h, h, ld);
  };
  for (auto _ : state) {
    taskpipe::bench::shared_halves().run([&] { half(0); }, [&] { half(1); });
  }
  taskpipe::bench::settle_idle_workers();
}

void register_all() {
  benchmark::RegisterBenchmark("matmul/halves", matmul_halves)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
  for (const std::string impl : {"serial", "taskpipe", "tbb"}) {
    benchmark::RegisterBenchmark(("fib/" + impl).c_str(),
                                 [impl](benchmark::State& s) {
                                   const int n = static_cast<int>(s.range(0));
                                   wl::serial_forker serial;
                                   run_impl(s, impl, parallel_workers, wl::fib(serial, n),
                                            [n](auto& fk) { return wl::fib(fk, n); });
                                 })
        ->Arg(30)
        ->Arg(34)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();

    benchmark::RegisterBenchmark(("skynet/" + impl).c_str(),
                                 [impl](benchmark::State& s) {
                                   const std::int64_t n = s.range(0);
                                   run_impl(s, impl, parallel_workers, n * (n - 1) / 2,
                                            [n](auto& fk) { return wl::skynet(fk, 0, n); });
                                 })
        ->Arg(1'000'000)
        ->Arg(10'000'000)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();

    benchmark::RegisterBenchmark(("nqueens/" + impl).c_str(),
                                 [impl](benchmark::State& s) {
                                   const int n = static_cast<int>(s.range(0));
                                   run_impl(s, impl, parallel_workers, wl::nqueens_solutions(n),
                                            [n](auto& fk) { return wl::nqueens(fk, n); });
                                 })
        ->Arg(10)
        ->Arg(12)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();

    benchmark::RegisterBenchmark(("matmul/" + impl).c_str(),
                                 [impl](benchmark::State& s) {
                                   const auto n = static_cast<std::size_t>(s.range(0));
                                   wl::matmul_inputs& in = shared_matmul_inputs(n);
                                   run_impl(s, impl, parallel_workers, 0, [&in](auto& fk) {
                                     wl::matmul(fk, in.a(), in.b(), in.c(), in.n, in.ld);
                                     return std::int64_t{0};
                                   });
                                 })
        ->Arg(1024)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();

    if (impl != "serial") {
      // Cost per spawned task on one worker: (fib(30) on 1 worker - serial fib(30)) / spawns. The counter reports the
      // 1-worker time per task; subtract serial fib/30's time per task (a few ns) for the pure overhead.
      benchmark::RegisterBenchmark(("spawn_overhead/" + impl).c_str(),
                                   [impl](benchmark::State& s) {
                                     constexpr int n = 30;
                                     wl::serial_forker serial;
                                     run_impl(s, impl, 1, wl::fib(serial, n), [](auto& fk) { return wl::fib(fk, n); });
                                     s.counters["ns_per_task"] = benchmark::Counter(
                                         static_cast<double>(wl::fib_spawns(n)) * static_cast<double>(s.iterations()),
                                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
                                   })
          ->Arg(30)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  benchmark::RegisterBenchmark("spawn_overhead/serial",
                               [](benchmark::State& s) {
                                 wl::serial_forker fk;
                                 for (auto _ : s) {
                                   benchmark::DoNotOptimize(wl::fib(fk, 30));
                                 }
                                 s.counters["ns_per_task"] = benchmark::Counter(
                                     static_cast<double>(wl::fib_spawns(30)) * static_cast<double>(s.iterations()),
                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
                               })
      ->Arg(30)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  taskpipe::bench::shared_halves();  // the helper thread starts here, not inside a timed loop
  return taskpipe::bench::run_with_ratios(argc, argv, {"serial", "halves", "taskpipe", "tbb"}, "tbb");
}
