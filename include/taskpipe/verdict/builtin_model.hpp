// taskpipe/verdict/builtin_model.hpp — the model `taskpipe verdict` judges when given no arguments, in one place for
// the command line and bench/verdict_accuracy.
//
// GPT-2's architecture, 4 blocks of width 192 (4 heads, 256 bytes of vocabulary), batch 8 x 32 tokens: small enough
// that profiling, predicting and training the baseline and the best few for a few steps takes seconds on two cores,
// and wide enough that its parameters and AdamW state, not its activations, decide whether a whole replica fits.
// It is judged twice: "model-tight", under 3/4 of what the whole model's parameters, gradients and AdamW state take
// (no replica of the whole model fits, so a pipeline must be the answer), and "model-ample", with no limit.
// Thread safety: pure functions.
#pragma once

#include <vector>

#include "taskpipe/verdict/model_candidates.hpp"

namespace taskpipe::verdict {

/// The built-in model on `workers` workers (0: 2), no memory limit, named "model".
model_workload builtin_model(int workers = 0);

/// The two built-in judgements: "model-tight" (the limit above) and "model-ample" (no limit), in that order.
std::vector<model_workload> builtin_model_runs(int workers = 0);

}  // namespace taskpipe::verdict
