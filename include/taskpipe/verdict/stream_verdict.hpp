// taskpipe/verdict/stream_verdict.hpp — the streaming verdict: calibrate a chain once, predict every strategy and
// setting, measure the best few, and recommend one, with the error of each prediction beside it.
//
// The chain is the user's own typed pipeline, unchanged: a factory builds it on the executor and options it is given,
// with a fresh source each call (every run must see the same input):
//   auto report = taskpipe::verdict::compare(
//       [](taskpipe::executor& ex, const taskpipe::pipeline_options& o, const std::vector<std::string>& lines) {
//         return taskpipe::pipeline{ex, o}.source(read_each(lines)).stage(taskpipe::parallel, parse)
//                                         .sink(taskpipe::serial_in_order, write);
//       },
//       sample_lines);
//   std::cout << report.verdict;
// Steps: (1) calibration, DS2's way: one run on one worker with every item timed gives each stage's true time per
// item and its spread (the one-worker baseline is that run's rate); with several workers, three runs under token on
// all of them give each stage's time when items and state cross cores; the same empty chain timed on one worker gives
// the clock's own share of a stage time, taken off every stage; an empty chain of the same shape gives each
// strategy's hand-off cost on all the workers and on one (pinned's on the placement the real chain gets); and one
// untimed reference run each of token and pinned on all the workers, 16 in flight, fits the contention that
// hand-offs pay under load (chain_profile::shared_handoff_extra_ns, pinned_handoff_extra_ns), so those two
// candidates are predicted from their own runs and the others from the terms fitted to them. (2) Prediction of every
// candidate (stream_model.hpp). (3) Measurement of the top `top` candidates (the best-predicted of each strategy
// first), `repetitions` runs each, median and spread; pinned runs on its budget, `workers` threads placed by the
// calibrated stage times (`stream_run_options`). The machine is watched throughout: the core-to-core round trip
// (core_round_trip.hpp) is probed at calibration, which is repeated (at most twice) when it changes on the way, and
// before and after each measurement. A measurement is predicted from a calibration taken in the regime it runs in,
// made when the first probe of that regime is found (at most 3 calibrations a compare), so a prediction and its
// measurement see the same machine; a measurement whose two probes disagree is repeated (at most twice). (4) The
// recommendation is the measured best, or, among the candidates within 3 % of it, the one with the least memory per
// worker; when the best leads the runner-up by less than max(3 %, twice the measured spread) the verdict says the lead
// is noise (`tied`).
// Exceptions: the factory's and the stages' exceptions propagate; bad options throw taskpipe::invalid_argument.
// Thread safety: one compare at a time per factory (the factory's captured state is the user's).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "taskpipe/pipeline/pipeline.hpp"
#include "taskpipe/verdict/stream_model.hpp"

namespace taskpipe::verdict {

using chain_factory = std::function<runnable_pipeline(executor&, const pipeline_options&)>;

struct stream_options {
  std::size_t max_workers = 0;  ///< 0: the hardware threads. 1 to 256.
  std::size_t top = 3;          ///< candidates to measure, 1 to 64
  std::size_t repetitions = 3;  ///< runs per measured candidate, 1 to 100
  /// Per-stage state bytes the calibration cannot see in a typed chain (empty: none declared).
  std::vector<std::size_t> state_bytes{};
  /// Per-stage item bytes (heap the items own); empty: the slot size of the chain's item types.
  std::vector<std::size_t> item_bytes{};
  /// Called with a short description of the step and the fraction of the work done (0 to 1).
  std::function<void(const std::string&, double)> progress{};
};

struct stream_measurement {
  double throughput = 0;  ///< items per second, median of the repetitions
  double spread = 0;      ///< (max - min) / median of the repetitions' throughputs
  double latency_p50_ns = 0;
  double latency_p99_ns = 0;
  /// Under pinned, the median run's pipeline_stats::threads and ::placement (0 and empty under token and farm).
  std::size_t threads = 0;
  std::string placement{};
  /// The core-to-core round trip probed before and after the runs (core_round_trip.hpp; 0 on one core).
  double core_round_trip_before_ns = 0;
  double core_round_trip_after_ns = 0;
};

struct stream_row {
  stream_prediction predicted;
  std::optional<stream_measurement> measured;
  /// The calibration the prediction comes from: an index into stream_report::calibrations.
  std::size_t calibration = 0;
  /// |predicted - measured| / measured throughput, when measured.
  [[nodiscard]] std::optional<double> error() const;
};

/// One calibration of a compare: the first, or one made because the machine changed before a measurement.
struct stream_calibration {
  chain_profile profile;
  double found_ns = 0;   ///< the probe that found the machine changed (0 for the first calibration)
  std::string before{};  ///< the label of the candidate about to be measured then (empty for the first)
};

struct stream_report {
  chain_profile profile;           ///< the first calibration's
  double baseline_throughput = 0;  ///< one worker, one item at a time (the calibration run)
  std::size_t cores = 0;
  std::vector<stream_row> rows;  ///< every candidate, best predicted first
  /// Every calibration, the first one (`profile`) first. A later one is made when the probe before a measurement finds
  /// the machine in a regime no calibration so far was taken in (core_latency_changed against each), at most 3 in all;
  /// each measured row is predicted from the calibration of the regime it was measured in (the nearest one when
  /// there are 3 already), the others from the first.
  std::vector<stream_calibration> calibrations;
  std::size_t recommended = 0;  ///< index into rows (a measured one)
  bool tied = false;            ///< the recommendation's lead is within the noise
  std::string verdict;          ///< a few sentences: what to use, by how much, why, and what would change it
};

/// The options the verdict runs candidate `c` with: its tokens and strategy; under pinned a budget of `c.workers`
/// threads (the default budget of an executor of that many workers) placed by `pinned_costs(p)`, no width cap, so the
/// run has the placement `predict` assumes. Use it to rerun a candidate as the verdict measured it.
pipeline_options stream_run_options(const chain_profile& p, const stream_candidate& c);

/// The calibration's untimed reference run of strategy `s` (token or pinned) on `max_workers` workers: 16 in flight.
/// The contention terms are fitted to it, so a measured candidate equal to it checks the fit, not the model.
stream_candidate contention_reference(execution_strategy s, std::size_t max_workers);

/// Whether `c` is one of the reference runs `p` was fitted to (pinned's only when its placement had more than one
/// segment, the only case it is run).
bool is_contention_reference(const chain_profile& p, const stream_candidate& c, std::size_t max_workers);

/// Measures the chain's profile (step 1 above) on its own; `compare` calls it.
chain_profile calibrate(const chain_factory& make, const stream_options& o, double* baseline_throughput = nullptr);

stream_report compare(const chain_factory& make, const stream_options& o = {});

/// The same, for a factory that builds the chain over a sample input: `make(ex, options, sample)` is called for
/// every run with the same sample (held by reference for the duration of the call).
template <class Make, class Sample>
requires std::is_invocable_r_v<runnable_pipeline, Make&, executor&, const pipeline_options&, const Sample&>
    stream_report compare(Make&& make, const Sample& sample, const stream_options& o = {}) {
  return compare(
      chain_factory{[&make, &sample](executor& ex, const pipeline_options& po) { return make(ex, po, sample); }}, o);
}

}  // namespace taskpipe::verdict
