// taskpipe/verdict/model_prediction.hpp — the model half of the verdict, step three: a candidate's step time and
// memory per worker, predicted from the profile alone.
//
// Step time (seconds), with rows = B / (D x M) per micro-batch and s = profile.slowdown(workers) (W workers sharing
// fewer free cores each run slower):
//   task    the one-worker step, sum over layers of F + B + W at B rows, divided by the intra-op speed-up, plus the
//           optimizer (clipping the model's gradients, AdamW over every parameter byte) and zeroing the gradients;
//   dp      one replica's F + B + W at B / D rows, times s, plus the replicas' threads (one per replica, and each
//           replica's one rank's: D + 1 thread starts), plus the serial tail the trainer runs after the replicas:
//           the gradient sum (3 (D - 1) passes over the parameter bytes: add, copy back, clip's copy), clipping one
//           replica's gradients, and AdamW and the zeroing over every replica's parameters (D x the model's layers:
//           a replica's head holds its own wte copy, as a pipeline's last rank does; one `task` model shares one wte);
//   pp, hybrid  the simulator's makespan (pp::simulate) of the schedule with each stage's F, B and W the sum of its
//           layers' at `rows` (times s) and, between ranks, the transport's cost of one micro-batch's activation
//           (fixed + per byte: the fixed part a cross-thread handoff), plus the step's thread starts (a thread per
//           replica, then each replica's ranks' threads: replicas + ranks starts in a row) and the same serial tail
//           (AdamW and the zeroing over every worker's parameters: the head's wte copy too).
// The cut of a pipeline is train::make_partition's under the memory limit (layer times at `rows`, the schedule's
// peak activations until W per rank under uniform costs, as train::make_plan cuts it).
// Memory per worker (bytes): 4 x the parameter bytes the worker holds (value, gradient, AdamW's two moments) plus
// the activations it holds at its peak, from each layer's two states (what its F keeps until its I, what its I keeps
// until its W). task and dp hold a whole model at B (task) or B / D (dp) rows: every F's bytes after the forward, then
// the backward walks down from the head, each layer trading its F-kept bytes for its I-kept ones and passing one
// activation's gradient down; task's backward runs each layer's W right after its I (the layer then frees it), dp's
// replica runs every I before any W (its one stage's order), so its I-kept bytes pile up. pp and hybrid: the
// simulator's peak bytes of the rank (pp::simulation::peak_activation_bytes: each stage's F-kept bytes plus its
// outgoing activation from F until I, then its I-kept bytes plus its outgoing gradient until W, as
// train::parallel_model::activation_costs counts them, in the order of the schedule, so a rank holding two unequal
// stages is not charged the larger twice). A
// candidate whose memory exceeds the limit does not fit and carries the reason. The cut under a limit is the
// partition's; when the partition finds none under it, the fastest cut is judged by the figure above.
// The bound names what limits the candidate: "memory" when it does not fit; else the largest of the bubble (idle
// share of the workers), the serial tail, the transfers and the intra-op scaling when it takes over 15 % of the
// step, otherwise "compute".
// Throws taskpipe::invalid_argument for a candidate the workload cannot take. Thread safety: a pure function.
#pragma once

#include <string>
#include <vector>

#include "taskpipe/pp/simulate.hpp"
#include "taskpipe/verdict/model_candidates.hpp"
#include "taskpipe/verdict/model_profile.hpp"

namespace taskpipe::verdict {

struct model_prediction {
  model_candidate candidate;
  pp::schedule schedule;              ///< one rank, one micro-batch (gpipe) for task and dp
  std::vector<std::size_t> bounds;    ///< the cut: stage s holds layers [bounds[s], bounds[s+1])
  double step_seconds = 0;            ///< predicted time of one training step
  double compute_seconds = 0;         ///< of it, the forward-backward (the makespan for pipelines)
  double tail_seconds = 0;            ///< of it, the serial zeroing, gradient sum, clipping and AdamW
  double memory_per_worker = 0;       ///< bytes, the largest worker's
  double state_bytes_per_worker = 0;  ///< of it, parameters + gradients + AdamW state
  bool fits = true;
  std::string reason;                      ///< why it does not fit (empty when it does)
  std::string bound;                       ///< what limits it, in words
  std::vector<pp::timed_action> timeline;  ///< the predicted actions of one replica, in seconds

  /// Steps per second.
  [[nodiscard]] double throughput() const noexcept { return step_seconds > 0 ? 1 / step_seconds : 0; }
};

model_prediction predict_model(const model_workload& w, const model_profile& p, const model_candidate& c);

}  // namespace taskpipe::verdict
