// taskpipe/pipeline/pipeline_options.hpp — how a pipeline run is executed: strategy, bound on items in flight,
// outside stop, trace output.
//
// The three strategies run the same stage chain:
// - `token`: stages run as tasks on the executor's work-stealing workers. The worker that finishes an item's stage
//   carries the item on to the next stage when it may; serial stages keep order with per-stage reorder buffers.
//   At most `max_in_flight` items live at once (like oneTBB's parallel_pipeline tokens).
// - `pinned`: stages run on threads of their own, a fixed budget of them (`pinned_threads`, by default the executor's
//   worker count), and items move between them through bounded lock-free queues, so a stage's state stays in its
//   threads' caches (like FastFlow). The chain is cut into runs of consecutive stages by cost (`stage_costs` when
//   given, else each stage's time per item measured by the pipeline's previous run, else all alike): several light
//   stages may share a thread, a parallel stage may take several (at most `pinned_width`), and never more threads
//   run stage bodies than the budget. With fewer threads than the chain has runs of serial and of parallel stages
//   (serial → parallel → serial on 2 threads), each serial run keeps a thread and the parallel runs are helped: every
//   thread runs them whenever its own input is empty, so a heavy parallel stage is not left on one thread (the source's
//   thread, out of tokens, leaves a long helped item, over 50 us, to the others while a token is on its way back).
//   `pipeline_stats::placement` says where each stage ran. The threads live for one `run()` (the executor's workers are
//   not used); a stage may still spawn tasks onto the executor. A thread with nothing to do looks for work as long as
//   the executor's workers do (`executor_options::spin_before_sleep`) before it sleeps.
// - `farm`: the source emits items and each item becomes one task that runs every stage in turn; the executor
//   balances them by stealing. Any stage may be serial: a serial stage is a stage-wise lock (one item at a time) and,
//   when `serial_in_order`, a ticket too (items pass it in source order); an item that finds the stage taken is
//   parked, and the task leaving the stage carries it on, so no worker ever blocks waiting for a ticket.
//
// Validation happens in `run()`: a value out of range throws `taskpipe::invalid_argument` naming it and the range.
// Stop: `stop` is polled by the source only (see below). Thread safety: a plain value, read by `run()`.
//
// Example:
//   taskpipe::stop_source cancel;
//   taskpipe::pipeline_options o{.max_in_flight = 32, .strategy = taskpipe::execution_strategy::pinned,
//                                .stop = cancel.get_token(), .trace_path = "run.json"};
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {

enum class execution_strategy : std::uint8_t { token, pinned, farm };

[[nodiscard]] constexpr std::string_view to_string(execution_strategy s) noexcept {
  switch (s) {
    case execution_strategy::token:
      return "token";
    case execution_strategy::pinned:
      return "pinned";
    case execution_strategy::farm:
      return "farm";
  }
  return "?";
}

struct pipeline_options {
  /// Most items alive at once (produced by the source, not yet finished by the sink). 1 to 65536.
  std::size_t max_in_flight = 16;
  execution_strategy strategy = execution_strategy::token;
  /// Under `pinned`: the threads that run stage bodies, all stages together; 0 means the executor's worker count.
  /// 0 to 4096.
  std::size_t pinned_threads = 0;
  /// Under `pinned`: the most threads one parallel stage (or a run of parallel stages sharing threads) may take out of
  /// `pinned_threads`; 0 means no cap but the budget. A serial stage always has one thread. 0 to 256.
  std::size_t pinned_width = 0;
  /// Under `pinned`: each stage's cost per item (any unit, source first, one per stage), used to place the stages on
  /// the budget. Empty: the times the pipeline's previous run measured, or, before any run, all alike.
  std::vector<double> stage_costs{};
  /// Polled by the source before each item: once a stop is requested the source produces no more, and the items
  /// already in flight finish normally (nothing is dropped).
  stop_token stop{};
  /// When not empty, `run()` writes a Chrome-trace JSON timeline here (one track per thread, one slice per stage
  /// execution); open it in https://ui.perfetto.dev or chrome://tracing.
  std::string trace_path{};
  /// Busy time and latency are measured on one item in `time_one_in` (picked by a hash of its sequence number) and
  /// busy time is scaled up to all items: reading the clock on every item's stages would cost more than the hand-offs
  /// themselves (on the reference VM, timing one item in 8 made empty stages 10 ns per item slower, 51 against 41;
  /// one in 64 keeps it near 1 ns and still gives 1500 samples per 10^5 items). 1 times every item; a trace always
  /// times every item. A power of two, 1 to 65536.
  std::size_t time_one_in = 64;
};

inline constexpr std::size_t max_in_flight_limit = 65536;
inline constexpr std::size_t pinned_width_limit = 256;
inline constexpr std::size_t pinned_threads_limit = 4096;
inline constexpr std::size_t time_one_in_limit = 65536;

}  // namespace taskpipe
