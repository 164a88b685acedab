// taskpipe/train/parallel_trainer.hpp — the parallel counterpart of `trainer`: the same loop over a parallel_model
// laid out by a parallel_plan (D replicas x P pipeline ranks).
//
// One step s: the loader's next global batch (the same loader and order as trainer), parallel_model::forward_backward,
// a check that the loss is finite, the global gradient norm and clipping (parallel_model::clip_grad_norm: every
// parameter once), a check that the norm is finite (naming the first non-finite gradient), then AdamW at the
// schedule's rate for s on every worker. Within rounding the parameters follow the one-worker trainer's.
// Checkpoints are the one-worker trainer's format (nn::save_checkpoint: Hugging Face names, the AdamW moments as
// optimizer.exp_avg.<name> / optimizer.exp_avg_sq.<name>, the step and data position), one whole-model file whatever
// the layout, so a checkpoint written under any layout (or by `trainer`) resumes under any other (or by `trainer`).
// Per worker (replica, rank) it sums over the steps run the busy time (its F, B, I and W callbacks) and the idle time
// (its replica's schedule makespan less its busy time: the pipeline bubble and the waits for its neighbours). With a
// timeline, track 0 holds each step's phases (data, forward_backward, clip, adamw) and track 1 + d·P + r worker
// (d, r)'s F, B, I and W slices, named in torch's notation ("1F3": stage 1, forward, micro-batch 3) with the stage,
// micro-batch and step as arguments, in microseconds since the trainer was built.
// Throws: taskpipe::invalid_argument for options out of range (at construction); taskpipe::error naming the step
// (and the layer, or the first non-finite gradient) when the loss or a gradient is not finite; the checkpoint errors
// of trainer::resume. Thread safety: one call at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/text_data.hpp"
#include "taskpipe/trace/timeline.hpp"
#include "taskpipe/train/parallel_model.hpp"
#include "taskpipe/train/parallel_plan.hpp"
#include "taskpipe/train/trainer.hpp"

namespace taskpipe::train {

/// One worker's time over the steps run, in seconds.
struct worker_time {
  int replica = 0;
  int rank = 0;
  double busy = 0;
  double idle = 0;
};

class parallel_trainer {
 public:
  /// Builds the model of `plan` with init seed `seed`. `tokens` (and `timeline`, when given) must outlive the trainer.
  parallel_trainer(const nn::gpt2_config& config, std::uint64_t seed, const parallel_plan& plan,
                   std::span<const std::uint8_t> tokens, const trainer_options& options,
                   trace::timeline* timeline = nullptr);

  /// Runs the next step. Precondition: !done().
  step_report step();
  [[nodiscard]] bool done() const noexcept { return m_step >= m_options.steps; }
  [[nodiscard]] std::int64_t steps_done() const noexcept { return m_step; }

  /// Takes the checkpoint's weights (every replica, both wte copies); the optimizer stays fresh (--init).
  void load_weights(const nn::checkpoint& c);
  /// Continues the run saved in `c`: weights, optimizer state, step and loader state (see trainer::resume).
  void resume(const nn::checkpoint& c);
  /// Writes the whole model, the optimizer state and the position atomically, as trainer::save does.
  void save(const std::string& path);

  parallel_model& model() noexcept { return m_model; }
  const trainer_options& options() const noexcept { return m_options; }
  /// Per worker, replica-major (d·P + r).
  [[nodiscard]] const std::vector<worker_time>& worker_times() const noexcept { return m_times; }

 private:
  void record(const step_report& r, std::chrono::steady_clock::time_point t0,
              const std::vector<std::chrono::steady_clock::time_point>& phases);

  nn::gpt2_config m_config;
  trainer_options m_options;
  parallel_model m_model;
  std::vector<nn::parameter*> m_params;  // replica 0's, each once, checkpoint order
  std::size_t m_data_tokens;
  nn::lr_schedule m_schedule;
  nn::batch_loader m_loader;
  trace::timeline* m_timeline;
  std::chrono::steady_clock::time_point m_epoch;
  std::int64_t m_step = 0;
  std::vector<worker_time> m_times;
  std::vector<std::int32_t> m_inputs;
  std::vector<std::int32_t> m_targets;
};

}  // namespace taskpipe::train
