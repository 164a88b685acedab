// taskpipe/train/trainer.hpp — single-worker training of the GPT-2 model: data, forward + backward, clipping, AdamW.
//
// One step s (from 0): the loader's next batch (text_data.hpp), `gpt2::forward_backward`, a check that the loss and
// the gradient norm are finite, clipping to `grad_clip` (0: off), then AdamW at the schedule's rate for s. The
// trainer's whole state — parameters, optimizer moments, step, loader position and generator — goes into a
// checkpoint (checkpoint.hpp), and `resume` restores it, so a run stopped after k steps and resumed gives the same
// bits as one that never stopped. With `--threads N` the model's ops run task-parallel on the executor given.
// With a timeline, each step adds one slice per phase (data, forward_backward, clip, adamw) on track 0 and one per
// layer and pass (F, B, W of embedding, h.0, ..., head) on track 1, in microseconds since the trainer was built; the
// traced step drives the layers itself, in the model's order, and gives the same bits as an untraced one.
// Throws: taskpipe::invalid_argument for options out of range (at construction, before any work); taskpipe::error
// naming the step (and the layer, or the first non-finite gradient) when the loss or a gradient is not finite.
// Thread safety: one call at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "taskpipe/nn/adamw.hpp"
#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/nn/text_data.hpp"
#include "taskpipe/trace/timeline.hpp"

namespace taskpipe {
class executor;
}

namespace taskpipe::train {

struct trainer_options {
  nn::adamw_options adamw{};
  double grad_clip = 1.0;  ///< max global gradient norm, [0, 1e6]; 0 turns clipping off
  std::int64_t warmup = 0;
  bool cosine = false;
  double lr_floor = 0.1;     ///< the cosine's end as a fraction of lr
  std::int64_t steps = 100;  ///< the run's total steps (a resumed run continues up to it)
  int batch = 8;
  int seq = 128;  ///< <= the model's context
  bool shuffle = false;
  std::uint64_t seed = 0;  ///< the shuffle's seed (the model's init seed is the caller's)

  /// Throws taskpipe::invalid_argument naming the first bad value; `config` bounds seq.
  void validate(const nn::gpt2_config& config) const;
};

struct step_report {
  std::int64_t step = 0;  ///< the step just done (from 0)
  float loss = 0;
  double grad_norm = 0;  ///< before clipping
  double lr = 0;
  double seconds = 0;  ///< wall time of the step
};

class trainer {
 public:
  /// `model` and `tokens` must outlive the trainer; so must `ex`, `ledger` and `timeline` when given.
  trainer(nn::gpt2& model, std::span<const std::uint8_t> tokens, const trainer_options& options, executor* ex = nullptr,
          nn::memory_ledger* ledger = nullptr, trace::timeline* timeline = nullptr);

  /// Runs the next step. Precondition: !done().
  step_report step();
  [[nodiscard]] bool done() const noexcept { return m_step >= m_options.steps; }
  [[nodiscard]] std::int64_t steps_done() const noexcept { return m_step; }

  /// Continues from a checkpoint written by save(): optimizer state, step, loader state. The caller has loaded the
  /// weights. Throws when the checkpoint lacks them, was written with another batch, seq or shuffle, or trained on a
  /// training split of another length.
  void resume(const nn::checkpoint& c);
  /// Writes parameters, optimizer state and position atomically.
  void save(const std::string& path) const;

  nn::adamw& optimizer() noexcept { return m_optimizer; }
  const trainer_options& options() const noexcept { return m_options; }

 private:
  nn::gpt2& m_model;
  trainer_options m_options;
  std::vector<nn::parameter*> m_params;
  std::size_t m_data_tokens;
  nn::adamw m_optimizer;
  nn::lr_schedule m_schedule;
  nn::batch_loader m_loader;
  executor* m_ex;
  trace::timeline* m_timeline;
  std::chrono::steady_clock::time_point m_epoch;
  std::int64_t m_step = 0;
  std::vector<std::int32_t> m_inputs;
  std::vector<std::int32_t> m_targets;
};

/// The mean loss over the first `batches` batches of `tokens` read sequentially (as the trainer reads them).
double evaluate(nn::gpt2& model, std::span<const std::uint8_t> tokens, int batch, int seq, int batches,
                executor* ex = nullptr);

/// "fnv1a64:<16 hex digits>" over the parameters' bytes in order: equal iff the parameters are bit-identical.
std::string parameter_checksum(std::span<nn::parameter* const> params);

}  // namespace taskpipe::train
