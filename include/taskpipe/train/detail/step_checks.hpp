// taskpipe/train/detail/step_checks.hpp — the checks the one-worker and the parallel trainer share: that a step's
// loss and gradients are finite, and that a checkpoint's training position can continue this run.
//
// Throws taskpipe::error with one line naming the step and the culprit, or the checkpoint and the mismatch.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/parameter.hpp"
#include "taskpipe/train/trainer.hpp"

namespace taskpipe::train::detail {

/// "step s: " — the prefix of every error a step reports.
std::string step_prefix(std::int64_t step);

/// Throws unless `loss` is finite: "step s: the loss is nan".
void check_loss(float loss, std::int64_t step);

/// Throws unless `grad_norm` is finite, naming the first parameter whose gradient holds a NaN or an infinity.
void check_grad_norm(double grad_norm, std::span<nn::parameter* const> params, std::int64_t step);

/// Throws taskpipe::invalid_argument unless `batch` rows split evenly into `replicas` x `microbatches`.
void check_batch_split(int batch, int replicas, int microbatches);

/// Throws unless `c` holds a training position written with the same batch, seq and shuffle, on a training split of
/// `data_tokens` tokens, and fewer steps than `options.steps`.
void check_resumable(const nn::checkpoint& c, const trainer_options& options, std::size_t data_tokens);

}  // namespace taskpipe::train::detail
