// Parallel-algorithm workloads of ../shared/BENCHMARKS.md: taskpipe's parallel_* against oneTBB's parallel_for /
// parallel_reduce / parallel_scan / parallel_sort (default partitioners on both sides) and std:: serial, on 2 worker
// threads, 10^7 elements. `light` bodies are a few instructions per element (memory-bound), `heavy` ones ~100 ns.
// Sort: light = 10^7 random uint32, heavy = 10^6 random 16-character strings; the input is restored outside the
// timed region. for_each and reduce also run as `halves`: two equal halves on two plain threads, no scheduler (the
// reference of common/static_halves.hpp). Names `<workload>/<impl>/<light|heavy>/<n>`. for_each/light and scan/light
// also run on 6 * 10^6 elements (see n_fast_host).
// `--load=N` runs N spinning threads beside the benchmark for the whole run (common/background_load.hpp): the
// machine loaded by other processes, where an ordered scan must not wait for a descheduled thread.
// Example:
//   build/bench/bench/algorithm --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   build/bench/bench/algorithm --load=2 --benchmark_filter='scan/' --benchmark_repetitions=5
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/parallel_scan.h>
#include <oneapi/tbb/parallel_sort.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "common/background_load.hpp"
#include "common/ratio_report.hpp"
#include "common/runtimes.hpp"
#include "common/static_halves.hpp"
#include "taskpipe/algorithm/parallel_for.hpp"
#include "taskpipe/algorithm/parallel_reduce.hpp"
#include "taskpipe/algorithm/parallel_scan.hpp"
#include "taskpipe/algorithm/parallel_sort.hpp"

namespace {

constexpr int parallel_workers = 2;
constexpr std::size_t n_elements = 10'000'000;
// The light workloads also run on 6 * 10^6 elements: the time a faster host (oneTBB's for_each/light in 2.2 ms
// instead of 3.6 ms) takes for 10^7, so the fixed costs of a call (chunking, hand-offs, the final join) weigh on it as
// they do there, while the data still overflows the caches as 10^7 do.
constexpr std::int64_t n_fast_host = 6'000'000;

taskpipe::executor& taskpipe_executor() { return taskpipe::bench::shared_executor(parallel_workers); }
tbb::task_arena& tbb_arena() { return taskpipe::bench::shared_arena(parallel_workers); }

inline std::uint64_t light(std::uint64_t x) noexcept { return x * 3 + 1; }

// About 100 ns of dependent integer arithmetic that the compiler cannot shorten.
inline std::uint64_t heavy(std::uint64_t x) noexcept {
  for (int i = 0; i < 64; ++i) {
    x ^= x >> 13U;
    x *= 0x9E3779B97F4A7C15ULL;
  }
  return x;
}

template <bool Heavy>
std::uint64_t body(std::uint64_t x) noexcept {
  if constexpr (Heavy) {
    return heavy(x);
  } else {
    return light(x);
  }
}

// 1, 2, ..., n_elements. One vector per program, shared by every implementation and repetition, so that all of them
// touch the same pages: a fresh 80 MB allocation per benchmark put each one on different physical memory. for_each
// rewrites it in place, which changes no element's cost.
std::vector<std::uint64_t>& shared_input() {
  static std::vector<std::uint64_t> v = [] {
    std::vector<std::uint64_t> r(n_elements);
    std::iota(r.begin(), r.end(), std::uint64_t{1});
    return r;
  }();
  return v;
}

/// The shared input set back to 1..n_elements (for_each may have rewritten it); call outside timed loops.
const std::vector<std::uint64_t>& restored_input() {
  auto& v = shared_input();
  std::iota(v.begin(), v.end(), std::uint64_t{1});
  return v;
}

// The first state.range(0) elements of the shared input (at most n_elements).
std::size_t bench_size(const benchmark::State& state) {
  return std::min(n_elements, static_cast<std::size_t>(state.range(0)));
}

template <bool Heavy>
void for_each_bench(benchmark::State& state, const std::string& impl) {
  auto& all = shared_input();
  const std::size_t n = bench_size(state);
  const auto first = all.begin();
  const auto last = all.begin() + static_cast<std::ptrdiff_t>(n);
  auto f = [](std::uint64_t& x) { x = body<Heavy>(x); };
  for (auto _ : state) {
    if (impl == "serial") {
      std::for_each(first, last, f);
    } else if (impl == "halves") {
      const auto mid = first + static_cast<std::ptrdiff_t>(n / 2);
      taskpipe::bench::shared_halves().run([&] { std::for_each(first, mid, f); }, [&] { std::for_each(mid, last, f); });
    } else if (impl == "taskpipe") {
      taskpipe::parallel_for_each(taskpipe_executor(), first, last, f);
    } else {
      tbb_arena().execute([&] {
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t i = r.begin(); i != r.end(); ++i) {
            f(all[i]);
          }
        });
      });
    }
    benchmark::DoNotOptimize(all.data());
  }
}

template <bool Heavy>
void reduce_bench(benchmark::State& state, const std::string& impl) {
  const auto& v = restored_input();
  const auto t = [](std::uint64_t x) { return body<Heavy>(x); };
  std::uint64_t expect = 0;
  for (const auto x : v) {
    expect += t(x);
  }
  for (auto _ : state) {
    std::uint64_t got = 0;
    if (impl == "serial") {
      got = std::transform_reduce(v.begin(), v.end(), std::uint64_t{0}, std::plus<>{}, t);
    } else if (impl == "halves") {
      const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
      std::uint64_t low = 0;
      std::uint64_t high = 0;
      taskpipe::bench::shared_halves().run(
          [&] { low = std::transform_reduce(v.begin(), mid, std::uint64_t{0}, std::plus<>{}, t); },
          [&] { high = std::transform_reduce(mid, v.end(), std::uint64_t{0}, std::plus<>{}, t); });
      got = low + high;
    } else if (impl == "taskpipe") {
      got = taskpipe::parallel_transform_reduce(taskpipe_executor(), v.begin(), v.end(), std::uint64_t{0},
                                                std::plus<>{}, t);
    } else {
      got = tbb_arena().execute([&] {
        return tbb::parallel_reduce(
            tbb::blocked_range<std::size_t>(0, v.size()), std::uint64_t{0},
            [&](const tbb::blocked_range<std::size_t>& r, std::uint64_t acc) {
              for (std::size_t i = r.begin(); i != r.end(); ++i) {
                acc += t(v[i]);
              }
              return acc;
            },
            std::plus<>{});
      });
    }
    if (got != expect) {
      state.SkipWithError("wrong sum");
    }
  }
}

// Heavy scan: the operation itself costs ~100 ns (the scanned values stay exact sums, checked against std).
template <bool Heavy>
void scan_bench(benchmark::State& state, const std::string& impl) {
  const auto& all = restored_input();
  const std::size_t n = bench_size(state);
  const auto first = all.begin();
  const auto last = all.begin() + static_cast<std::ptrdiff_t>(n);
  static std::vector<std::uint64_t> out(n_elements);  // shared too: every implementation writes the same pages
  std::fill(out.begin(), out.end(), 0);  // what an earlier implementation left must not pass for this one's output
  const auto op = [](std::uint64_t a, std::uint64_t b) {
    if constexpr (Heavy) {
      benchmark::DoNotOptimize(heavy(b));
    }
    return a + b;
  };
  std::vector<std::uint64_t> expect(n_elements, 0);
  std::inclusive_scan(first, last, expect.begin(), op);
  for (auto _ : state) {
    if (impl == "serial") {
      std::inclusive_scan(first, last, out.begin(), op);
    } else if (impl == "taskpipe") {
      taskpipe::parallel_inclusive_scan(taskpipe_executor(), first, last, out.begin(), op);
    } else {
      tbb_arena().execute([&] {
        tbb::parallel_scan(
            tbb::blocked_range<std::size_t>(0, n), std::uint64_t{0},
            [&](const tbb::blocked_range<std::size_t>& r, std::uint64_t sum, bool is_final) {
              for (std::size_t i = r.begin(); i != r.end(); ++i) {
                sum = op(sum, all[i]);
                if (is_final) {
                  out[i] = sum;
                }
              }
              return sum;
            },
            op);
      });
    }
    benchmark::DoNotOptimize(out.data());
  }
  if (out != expect) {
    state.SkipWithError("wrong scan");
  }
}

template <class T>
void sort_bench(benchmark::State& state, const std::string& impl, const std::vector<T>& input) {
  std::vector<T> v;
  auto expect = input;
  std::sort(expect.begin(), expect.end());
  for (auto _ : state) {
    state.PauseTiming();
    v = input;
    state.ResumeTiming();
    if (impl == "serial") {
      std::sort(v.begin(), v.end());
    } else if (impl == "taskpipe") {
      taskpipe::parallel_sort(taskpipe_executor(), v.begin(), v.end());
    } else {
      tbb_arena().execute([&] { tbb::parallel_sort(v.begin(), v.end()); });
    }
  }
  if (v != expect) {
    state.SkipWithError("not sorted");
  }
}

const std::vector<std::uint32_t>& sort_light_input() {
  static const std::vector<std::uint32_t> v = [] {
    std::vector<std::uint32_t> r(n_elements);
    std::mt19937 rng{7};
    for (auto& x : r) {
      x = static_cast<std::uint32_t>(rng());
    }
    return r;
  }();
  return v;
}

const std::vector<std::string>& sort_heavy_input() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> r(n_elements / 10);
    std::mt19937_64 rng{8};
    for (auto& x : r) {
      x.resize(16);
      for (auto& c : x) {
        c = static_cast<char>('a' + rng() % 26);
      }
    }
    return r;
  }();
  return v;
}

void register_all() {
  const auto n = static_cast<std::int64_t>(n_elements);
  for (const std::string impl : {"serial", "halves", "taskpipe", "tbb"}) {
    auto reg = [&](const std::string& name, auto fn, std::int64_t size) {
      benchmark::RegisterBenchmark((name.substr(0, name.find('/')) + "/" + impl + name.substr(name.find('/'))).c_str(),
                                   [impl, fn](benchmark::State& s) {
                                     fn(s, impl);
                                     taskpipe::bench::settle_idle_workers();
                                   })
          ->Arg(size)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    };
    reg("for_each/light", &for_each_bench<false>, n);
    reg("for_each/light", &for_each_bench<false>, n_fast_host);
    reg("for_each/heavy", &for_each_bench<true>, n);
    reg("reduce/light", &reduce_bench<false>, n);
    reg("reduce/heavy", &reduce_bench<true>, n);
    if (impl == "halves") {
      continue;  // the reference is taken where both runtimes are near the machine's limit: the plain loops
    }
    reg("scan/light", &scan_bench<false>, n);
    reg("scan/light", &scan_bench<false>, n_fast_host);
    reg("scan/heavy", &scan_bench<true>, n);
    reg(
        "sort/light", [](benchmark::State& s, const std::string& i) { sort_bench(s, i, sort_light_input()); }, n);
    reg(
        "sort/heavy", [](benchmark::State& s, const std::string& i) { sort_bench(s, i, sort_heavy_input()); }, n / 10);
  }
}

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* usage =
      "usage: algorithm [--load=N] [Google Benchmark flags]\n"
      "  --load=N  run N threads that spin on integer work beside the benchmarks, 0 to 64 (default 0): the figures\n"
      "            of a machine loaded by other processes\n";
  const bool help = taskpipe::bench::wants_help(argc, argv);
  const unsigned load_threads = help ? 0 : taskpipe::bench::background_load::take_flag(argc, argv);
  register_all();
  taskpipe::bench::shared_halves();  // the helper thread starts here, not inside a timed loop
  const taskpipe::bench::background_load load{load_threads};
  if (load_threads != 0) {
    std::printf("background load: %u spinning thread(s) for the whole run\n", load_threads);
  }
  return taskpipe::bench::run_with_ratios(argc, argv, {"serial", "halves", "taskpipe", "tbb"}, "tbb", usage);
}
