// taskpipe/nn/layernorm.hpp — LayerNorm over the last dimension (eps 1e-5, biased variance, as torch.nn.LayerNorm),
// as forward, backward-input (B) and backward-weight (W).
//
// Shapes: x, y, dy, dx [rows, c]; weight, bias, dw, db [c]; mean, rstd [rows].
// What F keeps: it writes mean and rstd (1/sqrt(var + eps)) per row; the caller keeps them with F's input x. B needs
// x, mean, rstd, the weight and dy; W needs x, mean, rstd and dy (x̂ = (x - mean)·rstd is recomputed, not stored).
// Accumulation: W adds into dw/db; B overwrites dx, or adds when `accumulate` (a residual trunk's gradient).
// Parallelism: F and B by row blocks; W by column blocks (each task sums its columns over all rows, in row order), so
// results do not depend on the worker count. Throws taskpipe::invalid_argument on mismatched sizes.
#pragma once

#include <cstddef>
#include <span>

namespace taskpipe {
class executor;
}

namespace taskpipe::nn {

inline constexpr float layernorm_eps = 1e-5F;

struct layernorm_dims {
  std::size_t rows = 0;
  std::size_t c = 0;
};

void layernorm_forward(std::span<const float> x, std::span<const float> weight, std::span<const float> bias,
                       std::span<float> y, std::span<float> mean, std::span<float> rstd, layernorm_dims d,
                       executor* ex = nullptr);
/// B: dx (=, or += when accumulate) the input gradient.
void layernorm_backward_input(std::span<const float> dy, std::span<const float> x, std::span<const float> mean,
                              std::span<const float> rstd, std::span<const float> weight, std::span<float> dx,
                              layernorm_dims d, bool accumulate, executor* ex = nullptr);
/// W: dw += Σ_rows dy·x̂, db += Σ_rows dy.
void layernorm_backward_weight(std::span<const float> dy, std::span<const float> x, std::span<const float> mean,
                               std::span<const float> rstd, std::span<float> dw, std::span<float> db, layernorm_dims d,
                               executor* ex = nullptr);
/// B and W in one pass over the rows (single block; what a non-pipelined backward would do).
void layernorm_backward(std::span<const float> dy, std::span<const float> x, std::span<const float> mean,
                        std::span<const float> rstd, std::span<const float> weight, std::span<float> dx,
                        std::span<float> dw, std::span<float> db, layernorm_dims d, bool accumulate);

}  // namespace taskpipe::nn
