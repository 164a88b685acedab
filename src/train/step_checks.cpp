#include "taskpipe/train/detail/step_checks.hpp"

#include <cmath>

#include "taskpipe/error.hpp"

namespace taskpipe::train::detail {

std::string step_prefix(std::int64_t step) { return "step " + std::to_string(step) + ": "; }

void check_loss(float loss, std::int64_t step) {
  if (!std::isfinite(loss)) {
    throw error(step_prefix(step) + "the loss is " + std::to_string(loss));
  }
}

void check_grad_norm(double grad_norm, std::span<nn::parameter* const> params, std::int64_t step) {
  if (std::isfinite(grad_norm)) {
    return;
  }
  for (const nn::parameter* p : params) {
    for (const float g : p->grad.span()) {
      if (!std::isfinite(g)) {
        throw error(step_prefix(step) + "the gradient of " + p->name + " is not finite (NaN or inf)");
      }
    }
  }
  throw error(step_prefix(step) + "the gradient norm overflows");
}

void check_resumable(const nn::checkpoint& c, const trainer_options& options, std::size_t data_tokens) {
  if (!c.position) {
    throw error("checkpoint " + c.path +
                " holds no training position (step, data position): use --init to start "
                "from its weights");
  }
  const nn::training_position& p = *c.position;
  if (p.batch != options.batch || p.seq != options.seq || p.shuffle != options.shuffle) {
    throw error("checkpoint " + c.path + " was written with batch " + std::to_string(p.batch) + ", seq " +
                std::to_string(p.seq) + (p.shuffle ? ", shuffled" : ", sequential") +
                "; a resumed run must keep them (got batch " + std::to_string(options.batch) + ", seq " +
                std::to_string(options.seq) + (options.shuffle ? ", shuffled)" : ", sequential)"));
  }
  if (p.data_tokens != data_tokens) {
    throw error("checkpoint " + c.path + " was trained on " + std::to_string(p.data_tokens) +
                " training tokens; this data has " + std::to_string(data_tokens) +
                ": resume with the same --data and --val-fraction");
  }
  if (p.step >= options.steps) {
    throw error("checkpoint " + c.path + " has done " + std::to_string(p.step) + " steps, not fewer than --steps " +
                std::to_string(options.steps));
  }
}

void check_batch_split(int batch, int replicas, int microbatches) {
  const int split = replicas * microbatches;
  if (batch % split != 0) {
    throw invalid_argument("a batch of " + std::to_string(batch) + " rows does not split into " +
                           std::to_string(replicas) + " replicas x " + std::to_string(microbatches) +
                           " micro-batches: the batch must be a multiple of " + std::to_string(split));
  }
}

}  // namespace taskpipe::train::detail
