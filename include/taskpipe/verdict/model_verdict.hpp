// taskpipe/verdict/model_verdict.hpp — the model verdict: profile a GPT-2 training step once, predict every layout
// on W workers under a memory limit, train the best few for a few steps, and recommend one, with the error of each
// prediction beside it.
//
//   taskpipe::verdict::model_workload w{.config = taskpipe::nn::preset("tiny"), .batch = 8, .seq = 64,
//                                       .workers = 2, .memory_per_worker = 4 << 20};
//   auto report = taskpipe::verdict::compare_model(w, {.top = 3, .steps = 3});
//   std::cout << report.verdict;
//
// Steps: (1) model_profile.hpp's profiling run; (2) model_prediction.hpp for every candidate of
// model_candidates.hpp; (3) model_measurement.hpp for the one-worker baseline and the `top` best-predicted candidates
// that fit (the best of each strategy first, then the rest by prediction); (4) the recommendation: the measured best
// among the fitting candidates and the baseline (when it fits), or, among those within 3 % of it, the one with the
// least predicted memory per worker; `tied` when the runner-up is within max(3 %, twice the measured spread).
// A candidate that does not fit is never measured nor recommended; the verdict names the best of them and why it does
// not fit. When nothing fits, nothing is recommended and the verdict says what the smallest candidate needs.
// Exceptions: taskpipe::invalid_argument for a bad workload or options; the trainers' errors propagate.
// Thread safety: one call at a time (it starts its own threads).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "taskpipe/trace/timeline.hpp"
#include "taskpipe/verdict/model_measurement.hpp"
#include "taskpipe/verdict/model_prediction.hpp"
#include "taskpipe/verdict/model_profile.hpp"

namespace taskpipe::verdict {

struct model_options {
  int top = 3;    ///< candidates to measure besides the baseline, 1 to 64
  int steps = 3;  ///< timed training steps per measured candidate (after one warm-up), 1 to 100
  /// Called with a short description of the step and the fraction of the work done (0 to 1).
  std::function<void(const std::string&, double)> progress{};
};

struct model_row {
  model_prediction predicted;
  std::optional<model_measurement> measured;
  trace::timeline measured_timeline;  ///< the measured steps, as the trainer drew them
  /// |predicted - measured| / measured step time, when measured.
  [[nodiscard]] std::optional<double> error() const;
};

struct model_report {
  model_workload workload;
  model_profile profile;
  model_row baseline;           ///< one worker, one thread: always measured
  std::vector<model_row> rows;  ///< every candidate: the fitting ones best predicted first, then those that do not fit
  std::optional<std::size_t> recommended;  ///< index into rows; empty when the baseline (or nothing) is the pick
  bool baseline_recommended = false;
  bool tied = false;
  std::string verdict;  ///< a few sentences: what to use, by how much, why, and what would change it

  /// The recommended row (the baseline when baseline_recommended), or null when nothing fits.
  [[nodiscard]] const model_row* pick() const noexcept;
};

/// Profiles, predicts, measures and recommends. With `profile` given, its figures are used instead of a new run
/// (the built-in verdict judges one model under two limits from one profile).
model_report compare_model(const model_workload& w, const model_options& o = {},
                           const model_profile* profile = nullptr);

}  // namespace taskpipe::verdict
