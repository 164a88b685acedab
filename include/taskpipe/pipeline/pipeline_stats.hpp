// taskpipe/pipeline/pipeline_stats.hpp — what one pipeline run measured.
//
// Per stage (source first, sink last): items it finished, time spent inside the stage function (busy), time items or
// threads waited for the stage's input and for room downstream. What "waiting" means depends on the strategy:
// - pinned: wait_input is the time the stage's threads blocked on an empty input queue; wait_output the time they
//   blocked for room downstream (for the source: for a free slot under max_in_flight).
// - token and farm: wait_input is the time items spent parked in a serial stage's buffer while another item held
//   the stage (summed over items); the source's wait_output is the time it was suspended because max_in_flight items
//   were alive. Parallel stages never wait.
// `busy_spread` is the coefficient of variation of one execution's time over the timed sample.
// Whole run: items that reached the sink, wall time, and per-item latency (source start to sink end) percentiles.
// Under `pinned`, where each stage ran: `placement` ("source+parse: thread 0 | hash: threads 1-2 | write: thread 3"),
// `threads` (the threads that ran stage bodies, at most the budget) and each stage's `pinned_thread(s)`.
// Busy time and latency come from the timed sample of items (pipeline_options::time_one_in, by default
// one in 64): busy is scaled up to all items, the percentiles are those of the sample. Item counts are exact.
//
// Thread safety: a plain value, filled in by `run()` after every thread of the run has finished. Never throws.
//
// Example:
//   auto s = chain.run();
//   for (const auto& st : s.stages) std::printf("%s: %llu items, busy %lld ns\n", st.name.c_str(),
//                                               (unsigned long long)st.items, (long long)st.busy.count());
//   std::printf("%.0f items/s, p99 latency %lld ns\n", s.throughput(), (long long)s.latency_p99.count());
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "taskpipe/pipeline/pipeline_options.hpp"
#include "taskpipe/pipeline/stage_mode.hpp"

namespace taskpipe {

struct stage_stats {
  std::string name;
  stage_mode mode = stage_mode::serial_in_order;
  std::uint64_t items = 0;
  std::chrono::nanoseconds busy{0};
  /// Spread of one execution's time over the timed sample: standard deviation / mean (0 with fewer than 2 samples).
  double busy_spread = 0.0;
  /// Median and 99th percentile of one execution's time over the timed sample (within about 9 %; 0 without samples).
  std::chrono::nanoseconds busy_p50{0};
  std::chrono::nanoseconds busy_p99{0};
  std::chrono::nanoseconds wait_input{0};
  std::chrono::nanoseconds wait_output{0};
  /// Under `pinned`: the first of the threads that ran this stage, and how many (0 under token and farm).
  std::size_t pinned_thread = 0;
  std::size_t pinned_threads = 0;
};

struct pipeline_stats {
  execution_strategy strategy = execution_strategy::token;
  std::vector<stage_stats> stages;
  std::uint64_t items = 0;  ///< items that went through the sink
  std::chrono::nanoseconds elapsed{0};
  std::chrono::nanoseconds latency_p50{0};
  std::chrono::nanoseconds latency_p99{0};
  bool stopped = false;  ///< the outside stop token ended the stream early
  /// Under `pinned`: the threads that ran stage bodies and which stages each ran (empty under token and farm).
  std::size_t threads = 0;
  std::string placement;

  /// Items per second through the sink.
  [[nodiscard]] double throughput() const noexcept {
    return elapsed.count() > 0 ? static_cast<double>(items) * 1e9 / static_cast<double>(elapsed.count()) : 0.0;
  }
};

}  // namespace taskpipe
