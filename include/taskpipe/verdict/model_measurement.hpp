// taskpipe/verdict/model_measurement.hpp — the model half of the verdict, step four: a candidate trained for real.
//
// `measure_model` runs one warm-up step and then at least `steps` timed training steps of the candidate on the cut its
// prediction chose, more while the timed steps add up to under 0.2 s (at most 200: a millisecond step is judged on
// enough samples that one preemption does not decide it): task through train::trainer (its ops on an executor of
// `threads` workers when more than one), dp, pp and hybrid through train::parallel_trainer (one thread per worker). The
// data are a fixed pseudo-random byte stream (the step's time does not depend on the text). It reports the median step
// time, the spread of the timed steps ((max - min) / median), and the largest worker's peak bytes over every memory
// category (nn::memory_ledger's peak_total: parameters, gradients, AdamW state, activations and the ops' scratch). With
// a timeline, the steps' phases and every worker's F, B, I and W slices go into it (as the trainers draw them). Throws
// taskpipe::invalid_argument for steps outside [1, 100]; the trainers' errors propagate. Thread safety: one call at a
// time (it starts its own threads).
#pragma once

#include <cstddef>

#include "taskpipe/trace/timeline.hpp"
#include "taskpipe/verdict/model_prediction.hpp"

namespace taskpipe::verdict {

struct model_measurement {
  double step_seconds = 0;  ///< median of the timed steps
  double spread = 0;        ///< (max - min) / median of the timed steps
  double peak_bytes = 0;    ///< the largest worker's peak, every category together
  int steps = 0;            ///< timed steps run

  /// Steps per second.
  [[nodiscard]] double throughput() const noexcept { return step_seconds > 0 ? 1 / step_seconds : 0; }
};

model_measurement measure_model(const model_workload& w, const model_prediction& p, int steps,
                                trace::timeline* timeline = nullptr);

}  // namespace taskpipe::verdict
