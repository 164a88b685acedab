// taskpipe/pp/simulate.hpp — predicts a schedule's time and memory under a cost model.
//
// Each rank runs its actions in order; an action starts when its rank is free and its inputs have arrived (producer
// finish + `comm` when the producer sits on another rank). Two clocks for a rank's idle time:
//   idle(r)   = makespan - busy(r): what a rank waits when every rank's optimizer step is synchronised, so an
//               iteration lasts from the first action anywhere to the last one anywhere;
//   bubble(r) = cost - busy(r), cost = the longest rank's time (its first start to its last finish): the Zero Bubble
//               paper's measure. The paper drops the optimizer-step synchronisation (its post-update validation), so
//               consecutive iterations overlap as a parallelogram and rank r's late start and early finish are not
//               idle. For GPipe, 1F1B, interleaved and ZB-H1 rank 0 runs from 0 to the makespan, so both agree; for
//               ZB-H2 they differ by up to (p-1)F.
// Bubble rates:
//   bubble_rate()     — the Zero Bubble paper's (cost - m(F+B+W)) / cost, summed over ranks:
//                       sum of bubble(r) / (ranks x cost);
//   megatron_bubble() — Megatron's idle / ideal: total idle / total busy ((p-1)/m for GPipe).
// Activation memory, counted in micro-batches of one stage (the paper's M_B) and in bytes:
//   peak_activations(r)        — activations held from an F's start until its I (or B) finishes: the measure of the
//                                paper's bounds (GPipe m, 1F1B and ZB-H1 p - r on rank r, ZB-H2 at most 2p - 1);
//   peak_activations_until_w(r) — the same held until the W finishes instead: the bound if W needed everything;
//   peak_activation_bytes(r)   — activation_bytes from F until I, then w_bytes until W, plus the working memory
//                                (f/b/w_work_bytes) of the pass running at that moment: the most held at any time,
//                                not only at the ends of passes (see costs.hpp);
//   peak_memory(r)             — the Zero Bubble paper's unit, M_B: one micro-batch's activations of the rank's
//                                layers, an F's share held until its I and the W's part (w_bytes / activation_bytes;
//                                all of it when no bytes are given) until its W (detail/memory_units.hpp); working
//                                memory is not in this unit (the paper's bounds count held activations). A chunk of
//                                a rank holding v chunks counts 1/v. zb-auto's memory limit is in this unit.
// Optimizer-step synchronisation, both modelled (optimizer_sync): `bypassed` is the paper's post-update validation
// (bubble against the cost, the default of bubble_rate()), `synchronised` an all-reduce before every step (bubble
// against the makespan).
// `simulate` validates first and throws `schedule_error`; accessors throw `taskpipe::invalid_argument` on a bad
// rank. Thread safety: the result is immutable.
#pragma once

#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/schedule.hpp"
#include "taskpipe/trace/timeline.hpp"

#include <vector>

namespace taskpipe::pp {

/// Whether every rank waits for all the others before its optimizer step (synchronised) or steps as soon as its own
/// work is done and validates afterwards (bypassed: the Zero Bubble paper's post-update validation).
enum class optimizer_sync { bypassed, synchronised };

struct timed_action {
  action what;
  int rank = 0;
  double start = 0;
  double finish = 0;
};

class simulation {
 public:
  simulation(int ranks, std::vector<timed_action> actions, const costs& c);

  int ranks() const noexcept { return ranks_; }
  double makespan() const noexcept { return makespan_; }
  double busy(int rank) const;
  double idle(int rank) const;
  /// Rank `rank`'s own time: from its first action's start to its last one's finish (0 for a rank with no action).
  double span(int rank) const;
  /// The Zero Bubble paper's cost: the longest rank's `span`.
  double cost() const noexcept { return cost_; }
  /// cost() - busy(rank): the rank's idle time when iterations are not synchronised (see above).
  double bubble(int rank) const;
  double bubble_rate() const noexcept;
  /// The bubble rate under either synchronisation: bypassed is bubble_rate(), synchronised is
  /// sum of idle(r) / (ranks x makespan).
  double bubble_rate(optimizer_sync sync) const noexcept;
  /// One iteration's time: cost() when bypassed, makespan() when synchronised.
  double iteration_time(optimizer_sync sync) const noexcept {
    return sync == optimizer_sync::bypassed ? cost_ : makespan_;
  }
  double megatron_bubble() const noexcept;
  int peak_activations(int rank) const;
  int peak_activations_until_w(int rank) const;
  double peak_activation_bytes(int rank) const;
  /// Peak activation memory of `rank` in the paper's M_B (see above).
  double peak_memory(int rank) const;
  /// Every action with its rank and times, in order of start time.
  const std::vector<timed_action>& actions() const noexcept { return actions_; }
  /// One track per rank, one slice per action, category its kind letter, named in torch notation.
  trace::timeline timeline() const;

 private:
  void check_rank(int rank) const;

  int ranks_;
  std::vector<timed_action> actions_;
  double makespan_ = 0;
  double cost_ = 0;
  std::vector<double> busy_;
  std::vector<double> span_;
  std::vector<int> peak_count_;
  std::vector<int> peak_until_w_;
  std::vector<double> peak_bytes_;
  std::vector<double> peak_memory_;
};

simulation simulate(const schedule& s, const costs& c);

/// The timeline of timed actions (shared by the simulator and the stage runtime).
trace::timeline make_timeline(int ranks, const std::vector<timed_action>& actions, double microseconds_per_unit);

}  // namespace taskpipe::pp
