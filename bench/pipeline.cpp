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
//
// Fairness between runtimes: one taskpipe executor and one oneTBB arena per width, created once and shared
// (common/runtimes.hpp); the same untimed pause after every benchmark for every implementation (see settle()), and
// for empty_tokens, whose runs last milliseconds, one untimed warm-up run before the timed ones (the other workloads'
// runs last long enough for that not to matter); the timer slack is lowered in main before any thread exists.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/ratio_report.hpp"
#include "common/runtimes.hpp"
#include "common/sleep_kernel.hpp"
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
