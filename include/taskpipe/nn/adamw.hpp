// taskpipe/nn/adamw.hpp — the AdamW optimizer, gradient clipping by global norm, and the learning-rate schedule.
//
// Contract: `adamw` follows torch.optim.AdamW (amsgrad off, maximize off) exactly, element by element in float32:
//   t  <- t + 1
//   p  <- p * (1 - lr * wd)                      (decoupled weight decay; only parameters with decay = true)
//   m  <- beta1 * m + (1 - beta1) * g
//   v  <- beta2 * v + (1 - beta2) * g * g
//   p  <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The bias corrections are computed in double, as torch computes them in Python floats. The state (m, v) lives in
// tensors of the `optimizer` memory category, one pair per parameter, and is read and restored by checkpoints.
// `clip_grad_norm` follows torch.nn.utils.clip_grad_norm_ (L2, error_if_nonfinite off): the total norm is the L2 norm
// over every gradient element (accumulated in double here), and when max_norm / (total + 1e-6) < 1 every gradient is
// multiplied by that coefficient. `lr_schedule` gives the rate for step s (from 0): constant by default; with
// warm-up, lr * (s + 1) / warmup for s < warmup; with cosine, after the warm-up it falls from lr to floor * lr along
// half a cosine, reaching the floor at the last step (s = steps - 1), and stays there after.
// Thread safety: none; one optimizer per worker. Throws taskpipe::invalid_argument for options out of range.
#pragma once

#include "taskpipe/nn/memory.hpp"
#include "taskpipe/nn/parameter.hpp"
#include "taskpipe/nn/tensor.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace taskpipe::nn {

struct adamw_options {
  double lr = 3e-4;           ///< (0, 10]
  double beta1 = 0.9;         ///< [0, 1)
  double beta2 = 0.95;        ///< [0, 1)
  double eps = 1e-8;          ///< (0, 1]
  double weight_decay = 0.1;  ///< [0, 10]

  /// Throws taskpipe::invalid_argument naming the first value out of its range.
  void validate() const;
};

class adamw {
 public:
  /// Keeps pointers to `params` (they must outlive the optimizer) and zero state for each.
  adamw(std::vector<parameter*> params, const adamw_options& options, memory_ledger* ledger = nullptr);

  /// One update of every parameter from its gradient at learning rate `lr` (the schedule's value for this step).
  void step(double lr);

  const adamw_options& options() const noexcept { return m_options; }
  /// Updates done so far (torch's `state['step']`).
  std::int64_t steps() const noexcept { return m_steps; }
  std::span<parameter* const> parameters() const noexcept { return m_params; }
  /// The first and second moments of parameter i (same order and shape as parameters()).
  tensor& exp_avg(std::size_t i) { return m_exp_avg.at(i); }
  tensor& exp_avg_sq(std::size_t i) { return m_exp_avg_sq.at(i); }
  const tensor& exp_avg(std::size_t i) const { return m_exp_avg.at(i); }
  const tensor& exp_avg_sq(std::size_t i) const { return m_exp_avg_sq.at(i); }
  /// Restores the update count with the moments (a checkpoint's).
  void set_steps(std::int64_t steps);

 private:
  std::vector<parameter*> m_params;
  adamw_options m_options;
  std::vector<tensor> m_exp_avg;
  std::vector<tensor> m_exp_avg_sq;
  std::int64_t m_steps = 0;
};

/// Scales every gradient so their global L2 norm is at most `max_norm` (> 0) and returns the norm before scaling.
/// A non-finite norm is returned as it is and nothing is scaled (the caller reports it).
double clip_grad_norm(std::span<parameter* const> params, double max_norm);

/// The global L2 norm of the gradients, accumulated in double.
double grad_norm(std::span<parameter* const> params);

struct lr_schedule {
  double lr = 3e-4;
  std::int64_t warmup = 0;  ///< linear warm-up steps, >= 0
  bool cosine = false;      ///< cosine decay after the warm-up
  double floor = 0.1;       ///< the cosine's end as a fraction of lr, [0, 1]
  std::int64_t steps = 1;   ///< the run's total steps, where the cosine ends

  /// The learning rate of step `s` (from 0).
  double at(std::int64_t s) const noexcept;
  void validate() const;
};

}  // namespace taskpipe::nn
