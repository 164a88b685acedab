// Streaming-pipeline workloads of ../shared/BENCHMARKS.md: the three taskpipe strategies (token, pinned, farm)
// against oneTBB's parallel_pipeline. Names `<workload>/<impl>/<args>`. Example (any implementation may follow any
// other, so none always runs right after a given rival or always last):
//   build/bench/bench/pipeline --benchmark_repetitions=9 --benchmark_enable_random_interleaving=true \
//       --benchmark_report_aggregates_only=true
//
// - empty_tokens/<impl>/<tokens>: source → parallel stage → in-order sink, all empty, 10^5 items, 2 threads;
//   the ns_per_token counter is the per-token overhead.
// - sleep_stages/<impl>/<pattern>/<tokens>: a cheap serial source, then one stage per pattern letter (s serial in
//   order, p parallel; the last letter is the sink), each stage a 10 µs timed sleep, 10^4 items. Sleeping needs no
//   CPU, so every implementation gets `tokens` threads (executor workers, TBB arena threads, pinned width).
//   The ideal time per item is max(slowest stage time / its width, chain time / tokens) (a serial stage has width 1,
//   a parallel one `tokens`; the chain bound holds because an item occupies one token through every stage). Counters:
//   pct_ideal uses the stage time calibrated in this run: the mean time of one kernel call on one plain thread, just
//   before and just after the timed loop (common/sleep_kernel.hpp). That is the slowest stage's actual time per item
//   when nothing else runs; it is the strict choice, as the cost of many threads sleeping and waking at once on two
//   cores stays part of what every implementation is measured on. pct_ideal_nominal uses 10 µs. stage_us is the
//   calibrated time; stage_us_concurrent (information only, not used) is the same kernel's mean time with as many
//   plain threads sleeping at once as the pipeline can have stages running. farm runs only the pattern whose middle
//   stages are all parallel (pppp).
// - cpu_chain/<impl>/<tokens>: parse → transform → hash → ordered write over 10^6 generated lines, 2 threads.
// - square/<impl>/<chunk bytes>: oneTBB's squaring example rewritten (workloads/square_text.hpp): a text file of 10^6
//   numbers is read in chunks of 128 or 4000 bytes cut on whole numbers (serial, in order) → each chunk's numbers
//   squared (parallel) → written to a text file in order (serial); 2 threads, 8 items in flight (the example's 4 per
//   thread). The files live in /dev/shm where it exists (else the temp directory), so the disk's write-back is not
//   timed. Opening the files is untimed; reading, squaring, writing and the final flush are timed. After every run the
//   output file is read back (untimed) and must equal the sequential oracle byte for byte, else the benchmark fails.
//   cpu_ms is the CPU time all the process's threads used during a run (getrusage): what a runtime burns besides
//   the work, spinning included; on a loaded machine it is steadier than the wall time. busiest_pct is the share of
//   the chunks squared by the thread that squared the most (common/thread_share.hpp): 100 % means the run was
//   sequential on one thread, 50 % an even split over the two; it tells whether a runtime got its second thread to
//   work, which the wall time of a loaded machine hides.
// - linear_pipeline/<impl>/<pattern>/<lines>: Taskflow's linear pipeline: 8 stages, one per pattern letter (s
//   serial in order, p parallel; the first letter is the source, always s, the last the sink), each a 10 µs sleep
//   (the same kernel as sleep_stages), 1000 items, `lines` items in flight, on 2 threads (executor workers, arena
//   threads, the pinned budget). A sleeping stage holds its thread, so the 2-thread ideal time per item, in units of
//   one stage's time, is max(8 / 2 threads, 8 / lines, 1 for the serial bottleneck): the work over the threads, the
//   chain over the items in flight, or the slowest serial stage, whichever bounds throughput. That is 4 units at every
//   line count from 2 up; pct_ideal is the 2-thread ideal over the measured time, with the stage time calibrated as
//   in sleep_stages, and pct_ideal_nominal the same with 10 µs.
//
// Fairness between runtimes: one taskpipe executor and one oneTBB arena per width, created once and shared
// (common/runtimes.hpp); the same untimed pause after every benchmark for every implementation (see settle()), and
// for empty_tokens, whose runs last milliseconds, one untimed warm-up run before the timed ones (the other workloads'
// runs last long enough for that not to matter); the timer slack is lowered in main before any thread exists.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/ratio_report.hpp"
#include "common/runtimes.hpp"
#include "common/sleep_kernel.hpp"
#include "common/thread_share.hpp"
#include "square_text.hpp"
#include "taskpipe/pipeline/pipeline.hpp"
#include "text_chain.hpp"

namespace {

namespace wl = taskpipe::workloads;
using taskpipe::execution_strategy;
using namespace std::chrono_literals;

constexpr int cpu_threads = 2;
constexpr std::int64_t empty_items = 100'000;
constexpr std::int64_t sleep_items = 10'000;
constexpr std::size_t chain_lines = 1'000'000;
constexpr std::size_t square_numbers = 1'000'000;
constexpr std::size_t square_in_flight = 4 * cpu_threads;  // the example's tokens: 4 per thread
constexpr std::int64_t linear_items = 1'000;
constexpr std::size_t linear_stages = 8;

taskpipe::executor& executor_with(int workers) {
  return taskpipe::bench::shared_executor(static_cast<std::size_t>(workers));
}

tbb::task_arena& arena_with(int threads) { return taskpipe::bench::shared_arena(static_cast<std::size_t>(threads)); }

execution_strategy strategy_of(const std::string& impl) {
  return impl == "pinned" ? execution_strategy::pinned
         : impl == "farm" ? execution_strategy::farm
                          : execution_strategy::token;
}

using taskpipe::bench::sleep_kernel;

// Untimed, after every benchmark and the same for every implementation: lets the idle threads of whichever runtime
// ran last (taskpipe workers spin up to 200 µs, oneTBB's a similar while) park before the next benchmark starts, so
// no benchmark shares the two cores with the previous one's spinning threads. Measured: under a millisecond of CPU
// is burnt after a run ends, so 20 ms is ample.
void settle() { std::this_thread::sleep_for(20ms); }

tbb::filter_mode tbb_mode(taskpipe::stage_mode m) {
  switch (m) {
    case taskpipe::stage_mode::serial_in_order:
      return tbb::filter_mode::serial_in_order;
    case taskpipe::stage_mode::serial_out_of_order:
      return tbb::filter_mode::serial_out_of_order;
    case taskpipe::stage_mode::parallel:
      return tbb::filter_mode::parallel;
  }
  return tbb::filter_mode::serial_in_order;
}

void empty_tokens(benchmark::State& state, const std::string& impl) {
  const auto tokens = static_cast<std::size_t>(state.range(0));
  std::int64_t sunk = 0;
  const auto run_once = [&] {
    sunk = 0;
    if (impl == "tbb") {
      arena_with(cpu_threads).execute([&] {
        std::int64_t i = 0;
        tbb::parallel_pipeline(
            tokens, tbb::make_filter<void, std::int64_t>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) {
                      if (i == empty_items) {
                        fc.stop();
                      }
                      return i++;
                    }) & tbb::make_filter<std::int64_t, std::int64_t>(tbb::filter_mode::parallel, [](std::int64_t v) {
                      return v;
                    }) & tbb::make_filter<std::int64_t, void>(tbb::filter_mode::serial_in_order, [&](std::int64_t) {
                      ++sunk;
                    }));
      });
    } else {
      taskpipe::pipeline{executor_with(cpu_threads), {.max_in_flight = tokens, .strategy = strategy_of(impl)}}
          .source([i = std::int64_t{0}]() mutable -> std::optional<std::int64_t> {
            if (i == empty_items) {
              return std::nullopt;
            }
            return i++;
          })
          .stage(taskpipe::parallel, [](std::int64_t v) { return v; })
          .sink(taskpipe::serial_in_order, [&](std::int64_t) { ++sunk; })
          .run();
    }
  };
  run_once();  // untimed warm-up, the same for every implementation (threads awake, memory touched)
  for (auto _ : state) {
    run_once();
    if (sunk != empty_items) {
      state.SkipWithError("lost items");
    }
  }
  settle();
  state.counters["ns_per_token"] =
      benchmark::Counter(static_cast<double>(empty_items) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void sleep_stages(benchmark::State& state, const std::string& impl, const std::string& pattern, int tokens) {
  std::vector<taskpipe::stage_mode> modes;
  for (const char c : pattern) {
    modes.push_back(c == 'p' ? taskpipe::parallel : taskpipe::serial_in_order);
  }
  // The most stage executions that can run at once: one per serial stage, `tokens` per parallel one, and never more
  // than the items alive.
  std::size_t concurrent = 0;
  for (const auto m : modes) {
    concurrent += is_serial(m) ? 1 : static_cast<std::size_t>(tokens);
  }
  concurrent = std::min(concurrent, static_cast<std::size_t>(tokens));
  const double concurrent_ns = taskpipe::bench::calibrate_sleep_ns(concurrent, 300);
  const double before_ns = taskpipe::bench::calibrate_sleep_ns(1, 500);
  for (auto _ : state) {
    std::int64_t sunk = 0;
    if (impl == "tbb") {
      arena_with(tokens).execute([&] {
        std::int64_t i = 0;
        auto chain =
            tbb::make_filter<void, std::int64_t>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) {
              if (i == sleep_items) {
                fc.stop();
              }
              return i++;
            });
        for (std::size_t k = 0; k + 1 < modes.size(); ++k) {
          chain = chain & tbb::make_filter<std::int64_t, std::int64_t>(tbb_mode(modes[k]), [](std::int64_t v) {
                    sleep_kernel();
                    return v;
                  });
        }
        tbb::parallel_pipeline(static_cast<std::size_t>(tokens),
                               chain & tbb::make_filter<std::int64_t, void>(tbb_mode(modes.back()), [&](std::int64_t) {
                                 sleep_kernel();
                                 if (is_serial(modes.back())) {
                                   ++sunk;
                                 }
                               }));
      });
    } else {
      // The chain's length is only known at run time, so build it with a runtime loop over one item type.
      auto b = taskpipe::pipeline{executor_with(tokens),
                                  {.max_in_flight = static_cast<std::size_t>(tokens),
                                   .strategy = strategy_of(impl),
                                   .pinned_width = static_cast<std::size_t>(tokens)}}
                   .source([i = std::int64_t{0}]() mutable -> std::optional<std::int64_t> {
                     if (i == sleep_items) {
                       return std::nullopt;
                     }
                     return i++;
                   });
      for (std::size_t k = 0; k + 1 < modes.size(); ++k) {
        b = std::move(b).stage(modes[k], [](std::int64_t v) {
          sleep_kernel();
          return v;
        });
      }
      auto stats = std::move(b).sink(modes.back(), [](std::int64_t) { sleep_kernel(); }).run();
      sunk = static_cast<std::int64_t>(stats.items);
    }
    if (is_serial(modes.back()) || impl != "tbb") {
      if (sunk != sleep_items) {
        state.SkipWithError("lost items");
      }
    }
  }
  // Again after the loop: the machine is shared and its load drifts, so the two calibrations bracket the timed runs.
  const double stage_ns = 0.5 * (before_ns + taskpipe::bench::calibrate_sleep_ns(1, 500));
  settle();
  // Ideal time per item: the slowest stage over its width (1 for a serial stage, tokens for a parallel one), or
  // the whole chain over the tokens, whichever bounds throughput; in units of one stage's time.
  const auto k = static_cast<double>(modes.size());
  const bool any_serial = std::any_of(modes.begin(), modes.end(), [](auto m) { return is_serial(m); });
  const double t = static_cast<double>(tokens);
  const double per_item_units = std::max(any_serial ? 1.0 : 1.0 / t, k / t);
  const double items = static_cast<double>(sleep_items) * static_cast<double>(state.iterations());
  const double nominal_ns = std::chrono::duration<double, std::nano>(taskpipe::bench::sleep_kernel_nominal).count();
  state.counters["stage_us"] = stage_ns * 1e-3;
  state.counters["stage_us_concurrent"] = concurrent_ns * 1e-3;
  state.counters["pct_ideal"] =
      benchmark::Counter(100.0 * items * per_item_units * stage_ns * 1e-9, benchmark::Counter::kIsRate);
  state.counters["pct_ideal_nominal"] =
      benchmark::Counter(100.0 * items * per_item_units * nominal_ns * 1e-9, benchmark::Counter::kIsRate);
}

void cpu_chain(benchmark::State& state, const std::string& impl) {
  static const wl::text_corpus corpus{chain_lines};
  static const std::uint64_t expect = wl::serial_checksum(corpus);
  const auto tokens = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    wl::ordered_writer out;
    out.out.reserve(corpus.size());
    if (impl == "tbb") {
      arena_with(cpu_threads).execute([&] {
        std::size_t i = 0;
        tbb::parallel_pipeline(
            tokens, tbb::make_filter<void, std::string_view>(tbb::filter_mode::serial_in_order,
                                                             [&](tbb::flow_control& fc) {
                                                               if (i == corpus.size()) {
                                                                 fc.stop();
                                                                 return std::string_view{};
                                                               }
                                                               return corpus.line(i++);
                                                             }) &
                        tbb::make_filter<std::string_view, wl::parsed_line>(
                            tbb::filter_mode::parallel, [](std::string_view l) { return wl::parse(l); }) &
                        tbb::make_filter<wl::parsed_line, wl::transformed_line>(
                            tbb::filter_mode::parallel, [](const wl::parsed_line& p) { return wl::transform(p); }) &
                        tbb::make_filter<wl::transformed_line, std::uint64_t>(
                            tbb::filter_mode::parallel, [](const wl::transformed_line& t) { return wl::hash(t); }) &
                        tbb::make_filter<std::uint64_t, void>(tbb::filter_mode::serial_in_order,
                                                              [&](std::uint64_t h) { out.write(h); }));
      });
    } else {
      taskpipe::pipeline{executor_with(cpu_threads), {.max_in_flight = tokens, .strategy = strategy_of(impl)}}
          .source([&, i = std::size_t{0}]() mutable -> std::optional<std::string_view> {
            if (i == corpus.size()) {
              return std::nullopt;
            }
            return corpus.line(i++);
          })
          .stage(taskpipe::parallel, wl::parse)
          .stage(taskpipe::parallel, [](const wl::parsed_line& p) { return wl::transform(p); })
          .stage(taskpipe::parallel, [](const wl::transformed_line& t) { return wl::hash(t); })
          .sink(taskpipe::serial_in_order, [&](std::uint64_t h) { out.write(h); })
          .run();
    }
    if (out.checksum != expect) {
      state.SkipWithError("wrong checksum");
    }
  }
  settle();
  state.counters["lines_per_s"] = benchmark::Counter(
      static_cast<double>(corpus.size()) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// CPU time of every thread of the process so far, user and system, in milliseconds.
double process_cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) * 1e-3;
  };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

// The square workload's files: the input, written once, the output, rewritten by every run, and the oracle's
// output. Removed at exit.
struct square_files {
  std::filesystem::path in;
  std::filesystem::path out;
  std::string expect;

  square_files() {
    const std::filesystem::path dir =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    const std::string stem = "taskpipe-square-" + std::to_string(::getpid());
    in = dir / (stem + "-in.txt");
    out = dir / (stem + "-out.txt");
    const std::string text = wl::square_input(square_numbers);
    std::ofstream{in, std::ios::binary}.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (std::filesystem::file_size(in) != text.size()) {
      throw std::runtime_error("square: cannot write " + in.string());
    }
    expect = wl::square_text(text);
  }
  ~square_files() {
    std::error_code ec;
    std::filesystem::remove(in, ec);
    std::filesystem::remove(out, ec);
  }
  square_files(const square_files&) = delete;
  square_files& operator=(const square_files&) = delete;

  [[nodiscard]] bool output_is_right() const {
    std::error_code ec;
    if (std::filesystem::file_size(out, ec) != expect.size() || ec) {
      return false;
    }
    std::string got(expect.size(), '\0');
    std::ifstream{out, std::ios::binary}.read(got.data(), static_cast<std::streamsize>(got.size()));
    return got == expect;
  }
};

void square(benchmark::State& state, const std::string& impl) {
  static const square_files files;
  static taskpipe::bench::thread_share squared;
  const auto chunk = static_cast<std::size_t>(state.range(0));
  const auto square_counted = [](const std::string& c) {
    squared.count();
    return wl::square_text(c);
  };
  double cpu_ms = 0;
  double busiest = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::FILE* in = std::fopen(files.in.c_str(), "rb");
    std::FILE* out = std::fopen(files.out.c_str(), "wb");
    if (in == nullptr || out == nullptr) {
      state.SkipWithError("cannot open the square files");
      break;
    }
    wl::chunk_reader reader{in, chunk};
    const auto write = [out](const std::string& s) { std::fwrite(s.data(), 1, s.size(), out); };
    state.ResumeTiming();
    squared.mark();
    const double cpu_before = process_cpu_ms();
    if (impl == "tbb") {
      arena_with(cpu_threads).execute([&] {
        tbb::parallel_pipeline(
            square_in_flight,
            tbb::make_filter<void, std::string>(tbb::filter_mode::serial_in_order,
                                                [&](tbb::flow_control& fc) {
                                                  auto c = reader.next();
                                                  if (!c) {
                                                    fc.stop();
                                                    return std::string{};
                                                  }
                                                  return std::move(*c);
                                                }) &
                tbb::make_filter<std::string, std::string>(tbb::filter_mode::parallel, square_counted) &
                tbb::make_filter<std::string, void>(tbb::filter_mode::serial_in_order, write));
      });
    } else {
      taskpipe::pipeline{executor_with(cpu_threads), {.max_in_flight = square_in_flight, .strategy = strategy_of(impl)}}
          .source([&] { return reader.next(); })
          .stage(taskpipe::parallel, square_counted)
          .sink(taskpipe::serial_in_order, write)
          .run();
    }
    std::fflush(out);
    cpu_ms += process_cpu_ms() - cpu_before;
    busiest += squared.busiest_share_since_mark();
    state.PauseTiming();
    std::fclose(in);
    std::fclose(out);
    const bool same = files.output_is_right();
    state.ResumeTiming();
    if (!same) {
      state.SkipWithError("the output differs from the sequential oracle");
      break;
    }
  }
  settle();
  state.counters["numbers_per_s"] = benchmark::Counter(
      static_cast<double>(square_numbers) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["cpu_ms"] = benchmark::Counter(cpu_ms, benchmark::Counter::kAvgIterations);
  state.counters["busiest_pct"] = benchmark::Counter(100.0 * busiest, benchmark::Counter::kAvgIterations);
}

void linear_pipeline(benchmark::State& state, const std::string& impl, const std::string& pattern, int lines) {
  if (pattern.size() != linear_stages || pattern.front() != 's') {
    state.SkipWithError("a linear_pipeline pattern has 8 letters and starts with s (the source is serial)");
    return;
  }
  std::vector<taskpipe::stage_mode> modes;
  for (const char c : pattern) {
    modes.push_back(c == 'p' ? taskpipe::parallel : taskpipe::serial_in_order);
  }
  const double before_ns = taskpipe::bench::calibrate_sleep_ns(1, 500);
  for (auto _ : state) {
    std::atomic<std::int64_t> sunk{0};
    if (impl == "tbb") {
      arena_with(cpu_threads).execute([&] {
        std::int64_t i = 0;
        auto chain =
            tbb::make_filter<void, std::int64_t>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) {
              sleep_kernel();
              if (i == linear_items) {
                fc.stop();
              }
              return i++;
            });
        for (std::size_t k = 1; k + 1 < modes.size(); ++k) {
          chain = chain & tbb::make_filter<std::int64_t, std::int64_t>(tbb_mode(modes[k]), [](std::int64_t v) {
                    sleep_kernel();
                    return v;
                  });
        }
        tbb::parallel_pipeline(static_cast<std::size_t>(lines),
                               chain & tbb::make_filter<std::int64_t, void>(tbb_mode(modes.back()), [&](std::int64_t) {
                                 sleep_kernel();
                                 sunk.fetch_add(1, std::memory_order_relaxed);
                               }));
      });
    } else {
      auto b = taskpipe::pipeline{executor_with(cpu_threads),
                                  {.max_in_flight = static_cast<std::size_t>(lines), .strategy = strategy_of(impl)}}
                   .source([i = std::int64_t{0}]() mutable -> std::optional<std::int64_t> {
                     sleep_kernel();
                     if (i == linear_items) {
                       return std::nullopt;
                     }
                     return i++;
                   });
      for (std::size_t k = 1; k + 1 < modes.size(); ++k) {
        b = std::move(b).stage(modes[k], [](std::int64_t v) {
          sleep_kernel();
          return v;
        });
      }
      std::move(b)
          .sink(modes.back(),
                [&](std::int64_t) {
                  sleep_kernel();
                  sunk.fetch_add(1, std::memory_order_relaxed);
                })
          .run();
    }
    if (sunk.load() != linear_items) {
      state.SkipWithError("lost items");
      break;
    }
  }
  const double stage_ns = 0.5 * (before_ns + taskpipe::bench::calibrate_sleep_ns(1, 500));
  settle();
  const auto k = static_cast<double>(modes.size());
  const double per_item_units = std::max({k / cpu_threads, k / static_cast<double>(lines), 1.0});
  const double items = static_cast<double>(linear_items) * static_cast<double>(state.iterations());
  const double nominal_ns = std::chrono::duration<double, std::nano>(taskpipe::bench::sleep_kernel_nominal).count();
  state.counters["stage_us"] = stage_ns * 1e-3;
  state.counters["pct_ideal"] =
      benchmark::Counter(100.0 * items * per_item_units * stage_ns * 1e-9, benchmark::Counter::kIsRate);
  state.counters["pct_ideal_nominal"] =
      benchmark::Counter(100.0 * items * per_item_units * nominal_ns * 1e-9, benchmark::Counter::kIsRate);
}

void register_all() {
  for (const std::string impl : {"token", "pinned", "farm", "tbb"}) {
    benchmark::RegisterBenchmark(("empty_tokens/" + impl).c_str(),
                                 [impl](benchmark::State& s) { empty_tokens(s, impl); })
        ->Arg(4)
        ->Arg(16)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const std::string pattern : {"ssss", "spsp", "pppp", "sppps"}) {
    for (const int tokens : {2, 4, 8, 16}) {
      for (const std::string impl : {"token", "pinned", "farm", "tbb"}) {
        if (impl == "farm" && pattern != "pppp") {
          continue;  // farm needs every middle stage parallel
        }
        benchmark::RegisterBenchmark(
            ("sleep_stages/" + impl + "/" + pattern + "/" + std::to_string(tokens)).c_str(),
            [impl, pattern, tokens](benchmark::State& s) { sleep_stages(s, impl, pattern, tokens); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
    }
  }
  for (const std::string impl : {"token", "pinned", "farm", "tbb"}) {
    benchmark::RegisterBenchmark(("cpu_chain/" + impl).c_str(), [impl](benchmark::State& s) { cpu_chain(s, impl); })
        ->Arg(16)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const std::string impl : {"token", "pinned", "farm", "tbb"}) {
    benchmark::RegisterBenchmark(("square/" + impl).c_str(), [impl](benchmark::State& s) { square(s, impl); })
        ->Arg(128)
        ->Arg(4000)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const std::string pattern : {"ssssssss", "spspspsp"}) {
    for (const int lines : {2, 4, 8, 16}) {
      for (const std::string impl : {"token", "pinned", "tbb"}) {
        benchmark::RegisterBenchmark(
            ("linear_pipeline/" + impl + "/" + pattern + "/" + std::to_string(lines)).c_str(),
            [impl, pattern, lines](benchmark::State& s) { linear_pipeline(s, impl, pattern, lines); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so every thread of every runtime inherits it (see common/sleep_kernel.hpp).
  const auto slack_ns = taskpipe::bench::lower_timer_slack();
  benchmark::AddCustomContext("timer_slack_ns", std::to_string(slack_ns));
  // oneTBB caps its workers at the core count by default; sleep_stages gives it up to 16 threads like the others.
  const tbb::global_control allow{tbb::global_control::max_allowed_parallelism, 64};
  register_all();
  return taskpipe::bench::run_with_ratios(argc, argv, {"token", "pinned", "farm", "tbb"}, "tbb");
}
