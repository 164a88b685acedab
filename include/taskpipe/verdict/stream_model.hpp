// taskpipe/verdict/stream_model.hpp — what a streaming chain will do under each strategy, predicted from one
// calibration: throughput, latency and memory per worker, and the bound that limits each candidate.
//
// The model (all times per item, from the calibration runs; t_i is stage i's true time — for token and farm on more
// than one worker its time measured on that many workers, where items and state cross cores — h the strategy's hand-off
// cost per stage, n the stage count, L = sum(t_i + h) one item's latency through an idle chain):
//   serial stage bound   X <= 1 / (t_s + h)             for every serial stage s (the source is one)
//   cores bound          X <= min(workers, cores, threads) / L   (cores: the effective cores, when calibrated)
//   stage threads bound  X <= k_i / (t_i + h)           pinned only: k_i threads own stage i (1 if serial)
//   tokens bound         X <= tokens / L                Little's law: at most `tokens` items are alive
// The prediction is the least of them, and the candidate carries the bound that gave it. Latency: an item's mean
// time in the chain is max(L, tokens / X) when the tokens fill up (any bound but the source) and L otherwise; p50
// is that mean, p99 adds 2.33 standard deviations of L (the stages' spreads, independent). Memory per worker: the
// items in flight (tokens x the largest item) shared by the threads that hold them, plus the state of the stages a
// worker runs — every stage under token and farm (any worker may run any stage), its own stages under pinned.
// Thread safety: pure functions on values. Nothing throws except `stream_candidates` on a profile without stages.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

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
  /// Hand-off cost per stage and item of each strategy (token, pinned, farm), from an empty chain run the same way.
  double handoff_ns[3] = {0, 0, 0};
  /// Cores the machine gives now, relative to one thread: W threads burning CPU did `effective_cores` times the
  /// work of one (0: not measured, use the hardware count). The stage times already carry the load one thread sees;
  /// on a shared machine this ratio, not the hardware count, bounds what more workers add.
  double effective_cores = 0;
  /// Whether the chain may run as a farm (every middle stage parallel).
  [[nodiscard]] bool farm_allowed() const noexcept;
};

struct stream_candidate {
  execution_strategy strategy = execution_strategy::token;
  std::size_t workers = 1;         ///< executor workers (pinned: the width of each parallel stage)
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
  std::size_t threads = 0;            ///< threads the candidate runs (pinned may run more than cores)
  double busy_cores = 0;              ///< cores the candidate can keep busy: min(effective cores, threads)
  stream_bound bound = stream_bound::cores;
  std::size_t bound_stage = 0;  ///< the stage of a serial_stage or stage_threads bound
  /// "serial stage 'write'", "cores (1.8 busy)", "tokens (4 in flight)", "threads of stage 'parse' (2)".
  [[nodiscard]] std::string bound_text(const chain_profile& p) const;
};

/// Every strategy the chain allows, for workers 1..max_workers (powers of two and max_workers) and tokens
/// 1x, 2x, 4x and 8x the workers (at least 2, each count once).
std::vector<stream_candidate> stream_candidates(const chain_profile& p, std::size_t max_workers);

/// The prediction for one candidate on a machine with `cores` hardware threads.
stream_prediction predict(const chain_profile& p, const stream_candidate& c, std::size_t cores);

}  // namespace taskpipe::verdict
