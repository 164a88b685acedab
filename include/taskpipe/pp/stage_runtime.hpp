// taskpipe/pp/stage_runtime.hpp — executes a schedule on real workers: one std::thread per rank, each running its
// action list in order, moving activations and gradients through a transport.
//
// Compute is the caller's: per stage, `forward(mb, input) -> output`, `backward_input(mb, grad_out) -> grad_in`,
// `backward_weight(mb)`. Stage 0's forward gets an empty input and the last stage's backward an empty gradient; the
// last stage's output and stage 0's input gradient are dropped. A full backward (B) calls backward_input then
// backward_weight. Callbacks of the stages on one rank run on that rank's thread, in the schedule's order; callbacks
// of different ranks run concurrently.
// Errors: the schedule is validated first (`schedule_error`); missing callbacks throw `taskpipe::invalid_argument`;
// the first exception a callback throws is rethrown from `run_schedule` after every rank has stopped (the transport
// is closed so no rank waits forever). A rank's thread that cannot start is a `taskpipe::error` naming the rank,
// thrown after the threads already started have left without running anything. Cancellation: throw from a callback.
// The result's timeline records each callback's wall-clock span (receives excluded), in seconds since the start.
#pragma once

#include "taskpipe/pp/schedule.hpp"
#include "taskpipe/pp/simulate.hpp"
#include "taskpipe/pp/transport.hpp"
#include "taskpipe/trace/timeline.hpp"

#include <functional>
#include <span>
#include <vector>

namespace taskpipe::pp {

struct stage_callbacks {
  std::function<payload(int microbatch, const payload& input)> forward;
  std::function<payload(int microbatch, const payload& grad_output)> backward_input;
  std::function<void(int microbatch)> backward_weight;
};

struct run_result {
  double makespan_s = 0;              ///< first action's start to last action's finish
  std::vector<timed_action> actions;  ///< as run, times in seconds, in order of start
  trace::timeline timeline() const;   ///< same format as the simulator's, microseconds_per_unit = 1e6
  int ranks = 0;
};

/// Runs `s` with `callbacks[stage]`; uses a fresh `inproc_transport` when `link` is null.
run_result run_schedule(const schedule& s, std::span<const stage_callbacks> callbacks, transport* link = nullptr);

/// Runs only `rank`'s action list, on the calling thread, for transports whose ranks are separate processes (one
/// call per process, each with its own rank). Only the callbacks of the stages on `rank` are needed. A callback's
/// exception closes `link` and is rethrown. The result holds this rank's actions only, in seconds since the call.
run_result run_rank(const schedule& s, std::span<const stage_callbacks> callbacks, transport& link, int rank);

}  // namespace taskpipe::pp
