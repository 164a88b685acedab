// The model verdict's memory per worker against the trainers' memory ledger: a whole model (task's one worker, a dp
// replica) is predicted from the profile's two states per layer, and must land within the accuracy target (5 %) of the
// high-water mark the ledger measures in a real step.
#include <gtest/gtest.h>

#include <cmath>

#include "taskpipe/verdict/model_candidates.hpp"
#include "taskpipe/verdict/model_measurement.hpp"
#include "taskpipe/verdict/model_prediction.hpp"
#include "taskpipe/verdict/model_profile.hpp"

namespace v = taskpipe::verdict;
using taskpipe::train::strategy;

namespace {

// A narrow model on a large batch: activations are a large part of a worker's peak, and summing each layer's larger
// state (after F or after I) overstates a whole model's by about a tenth, since no step holds both states of every
// layer at once.
v::model_workload whole_model_workload() {
  v::model_workload w;
  w.config = {.vocab = 256, .context = 16, .embd = 32, .layers = 3, .heads = 2};
  w.batch = 16;
  w.seq = 16;
  w.workers = 2;
  return w;
}

double relative_error(double predicted, double measured) { return std::abs(predicted - measured) / measured; }

}  // namespace

TEST(model_memory, a_whole_models_peak_is_predicted_within_five_percent_of_the_ledgers_high_water_mark) {
  const v::model_workload w = whole_model_workload();
  const v::model_profile p = v::profile_model(w);
  for (const v::model_candidate& c : v::model_candidates(w)) {
    if (c.kind != strategy::task && c.kind != strategy::data) {
      continue;
    }
    const v::model_prediction predicted = v::predict_model(w, p, c);
    const v::model_measurement measured = v::measure_model(w, predicted, 1);
    ASSERT_GT(measured.peak_bytes, 0) << c.label();
    EXPECT_LE(relative_error(predicted.memory_per_worker, measured.peak_bytes), 0.05)
        << c.label() << ": predicted " << predicted.memory_per_worker << " bytes, measured " << measured.peak_bytes;
  }
}
