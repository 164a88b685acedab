#include "taskpipe/verdict/builtin_model.hpp"

#include <cstddef>

namespace taskpipe::verdict {

model_workload builtin_model(int workers) {
  model_workload w;
  w.name = "model";
  w.config = {.vocab = 256, .context = 32, .embd = 192, .layers = 4, .heads = 4};
  w.batch = 8;
  w.seq = 32;
  w.workers = workers == 0 ? 2 : workers;
  w.validate();
  return w;
}

std::vector<model_workload> builtin_model_runs(int workers) {
  model_workload tight = builtin_model(workers);
  model_workload ample = tight;
  tight.name = "model-tight";
  tight.memory_per_worker = 0.75 * 4.0 * static_cast<double>(tight.config.parameter_count() * sizeof(float));
  ample.name = "model-ample";
  return {tight, ample};
}

}  // namespace taskpipe::verdict
