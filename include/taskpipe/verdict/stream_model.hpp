// taskpipe/verdict/stream_model.hpp — what a streaming chain will do under each strategy, predicted from one
// calibration: throughput, latency and memory per worker, and the bound that limits each candidate.
//
// The model (all times per item, from the calibration runs; t_i is stage i's true time — for token and farm on more
// than one worker its time measured on that many workers, where items and state cross cores — h the strategy's hand-off
// cost, n the stage count):
// - token and farm: h is paid per stage, L = sum(t_i + h) is one item's latency through an idle chain, and on several
//   workers the saturated bounds add e = `shared_handoff_extra_ns` per stage (contention), so
//     serial stage bound   X <= 1 / (t_s + h + e)             for every serial stage s (the source is one)
//     cores bound          X <= min(workers, cores) / (L + n e) (cores: the effective cores, when calibrated)
//     tokens bound         X <= the closed network's rate (stations t_i + h), Little's law: at most `tokens` items
//                          are alive
// - pinned runs on a budget of `workers` threads, placed as the library places it (`pinned_layout`, the
//   detail::place_pinned of the one-worker stage times): segments of consecutive stages, each run back to back by its
//   own threads, so h is paid per segment (a placement of one segment pays the one-thread hand-off instead), and
//   L = sum(t_i) + segments x h. A fused segment j of cost C_j on k_j
//   threads gives X <= k_j / (C_j + h + e) (a lone serial stage reads as a serial stage bound, anything else as the
//   segment's threads; e = `pinned_handoff_extra_ns` when there is more than one segment, contention under load);
//   a helped placement (parallel runs run by every thread) is bounded by its serial runs and by the cores; the cores
//   bound is min(threads, cores) / (L + segments x e), and the tokens bound takes one station per segment, C_j + h
//   (the helped segments share the threads, one station).
// The prediction is the least of them, and the candidate carries the bound that gave it. Latency: an item's mean
// time in the chain is max(L, tokens / X) when the tokens fill up (any bound but the source's) and L otherwise; p50
// is that mean, p99 adds 2.33 standard deviations of L (the stages' spreads, independent). Memory per worker: the
// items in flight (tokens x the largest item) shared by the threads that hold them, plus the state of the stages a
// worker runs — every stage under token and farm (any worker may run any stage); under pinned the stages of a
// thread's segment, and every helped segment's.
// Thread safety: pure functions on values. Nothing throws except `stream_candidates` on a profile without stages.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "taskpipe/pipeline/detail/pinned_placement.hpp"
#include "taskpipe/pipeline/pipeline_options.hpp"
#include "taskpipe/pipeline/stage_mode.hpp"

namespace taskpipe::verdict {

/// One stage as the calibration run measured it.
struct stage_profile {
  std::string name;
  stage_mode mode = stage_mode::serial_in_order;
  double mean_ns = 0;  ///< time inside the stage's function per item (DS2's "true" processing time), one worker
  double spread = 0;   ///< coefficient of variation of that time
  std::size_t state_bytes = 0;
  std::size_t item_bytes = 0;  ///< bytes one item holds after this stage
  /// The same time when the chain runs on several workers under token, where its items and its state move between
  /// cores (a serial stage's state follows whichever thread runs it): what the stage costs a token or farm candidate
  /// of more than one worker. 0: not calibrated, mean_ns stands for it.
  double shared_mean_ns = 0;
};

struct chain_profile {
  std::vector<stage_profile> stages;
  /// Hand-off cost per item of each strategy (token, pinned, farm), from an empty chain run the same way: per stage
  /// under token and farm, per segment of the placement under pinned (stages of one segment pass items by a call).
  double handoff_ns[3] = {0, 0, 0};
  /// The same on one worker (token and farm; pinned's is `pinned_solo_handoff_ns`), which a candidate of one worker
  /// pays: nothing crosses cores. 0: not measured, handoff_ns stands for it.
  double handoff_one_worker_ns[3] = {0, 0, 0};
  /// Pinned's cost per item when one thread runs the whole chain (a placement of one segment, as on a budget of one:
  /// no queue between threads, the items never leave the core), from an empty chain on one thread; 0: not measured,
  /// handoff_ns[pinned] stands for it.
  double pinned_solo_handoff_ns = 0;
  /// Cores the machine gives now, relative to one thread: W threads burning CPU did `effective_cores` times the
  /// work of one (0: not measured, use the hardware count). The stage times already carry the load one thread sees;
  /// on a shared machine this ratio, not the hardware count, bounds what more workers add.
  double effective_cores = 0;
  /// What a hand-off costs token and farm on several workers beyond `handoff_ns`, per stage: fitted so that the model
  /// gives the measured rate of one untimed run of the chain on every worker under token, 16 in flight (the
  /// calibration's reference run) — admission to serial stages contended from other cores, items and tokens that come
  /// from another core's cache, which an empty chain does not show; negative (down to minus the hand-off) where the
  /// hand-offs under load overlap more than the empty chain's.
  double shared_handoff_extra_ns = 0;
  /// The reference run's rate, items per second (0: not run, one core).
  double shared_reference_throughput = 0;
  /// The same for pinned, per segment of a placement of more than one: fitted to one untimed run of the chain pinned
  /// on every worker, 16 in flight (the rate in `pinned_reference_throughput`).
  double pinned_handoff_extra_ns = 0;
  double pinned_reference_throughput = 0;
  /// The core-to-core round trip when the profile was taken (core_round_trip.hpp; 0: not probed, one core). Every
  /// cross-thread hand-off above was measured under it.
  double core_round_trip_ns = 0;
  /// Whether the chain may run as a farm (every middle stage parallel).
  [[nodiscard]] bool farm_allowed() const noexcept;
};

struct stream_candidate {
  execution_strategy strategy = execution_strategy::token;
  std::size_t workers = 1;         ///< executor workers (pinned: the thread budget, `pipeline_options::pinned_threads`)
  std::size_t max_in_flight = 16;  ///< tokens
  /// "token, 2 workers, 16 in flight".
  [[nodiscard]] std::string label() const;
};

enum class stream_bound { serial_stage, cores, stage_threads, tokens };

struct stream_prediction {
  stream_candidate candidate;
  double throughput = 0;  ///< items per second
  double latency_p50_ns = 0;
  double latency_p99_ns = 0;
  std::size_t memory_per_worker = 0;  ///< bytes
  std::size_t threads = 0;            ///< threads that run stage bodies (pinned: the placement's, at most `workers`)
  double busy_cores = 0;              ///< cores the candidate can keep busy: min(effective cores, threads)
  stream_bound bound = stream_bound::cores;
  std::size_t bound_stage = 0;    ///< the stage of a serial_stage bound; the first stage of a stage_threads one
  std::size_t bound_last = 0;     ///< the last stage of a stage_threads bound (pinned: its segment's)
  std::size_t bound_threads = 0;  ///< the threads of a stage_threads bound
  /// Under pinned: where the stages run, as pipeline_stats::placement reads ("read+parse: thread 0 | write: thread 1").
  std::string placement;
  /// "serial stage 'write'", "cores (1.8 busy)", "tokens (4 in flight)", "threads of stage 'parse' (2)",
  /// "threads of 'read+parse' (1)".
  [[nodiscard]] std::string bound_text(const chain_profile& p) const;
};

/// Every strategy the chain allows, for workers 1..max_workers (powers of two and max_workers) and tokens
/// 1x, 2x, 4x and 8x the workers (at least 2, each count once).
std::vector<stream_candidate> stream_candidates(const chain_profile& p, std::size_t max_workers);

/// Each stage's cost per item for the pinned placement: its one-worker time (what the pipeline's own previous run would
/// have measured). The verdict runs pinned with these as `pipeline_options::stage_costs`, so the placement it measures
/// is the one `pinned_layout` predicts.
std::vector<double> pinned_costs(const chain_profile& p);

/// The pinned placement of the chain on `budget` threads: detail::place_pinned of `pinned_costs`, no width cap.
std::vector<detail::pinned_segment> pinned_layout(const chain_profile& p, std::size_t budget);

/// The prediction for one candidate on a machine with `cores` hardware threads.
stream_prediction predict(const chain_profile& p, const stream_candidate& c, std::size_t cores);

}  // namespace taskpipe::verdict
