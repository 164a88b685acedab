// taskpipe/nn/linear.hpp — the affine map of Hugging Face's Conv1D (y = x·W + b, W stored [in, out]) and the tied
// LM head (logits = x·wteᵀ, wte stored [vocab, embd]), each as forward, backward-input (B) and backward-weight (W).
//
// Shapes are row-major: x [rows, in], w [in, out], b [out], y [rows, out]. All GEMMs are cblas_sgemm calls with the
// transpose flags doing the transposes (no copies).
// What F keeps: nothing itself; the caller keeps F's input x, which W needs (dw += xᵀ·dy). B needs only dy and the
// weight, so B can run as soon as dy arrives and W any time later, as long as x and dy are kept until then.
// Accumulation: W always adds into dw/db (gradients accumulate over micro-batches); B overwrites dx, or adds into it
// when `accumulate` is true (a residual branch's gradient joins the trunk's).
// Parallelism: with an executor, F and B split the rows into one block per worker, W splits the columns of dw; the
// summed dimension is never split, so worker counts agree to rounding (OpenBLAS may pick another kernel for a
// block's shape, so not always to the bit); the bias sums are bit-identical.
// Throws taskpipe::invalid_argument when a span's size does not match the extents.
// Thread safety: calls writing disjoint outputs may run concurrently.
#pragma once

#include <cstddef>
#include <span>

namespace taskpipe {
class executor;
}

namespace taskpipe::nn {

struct linear_dims {
  std::size_t rows = 0;  ///< B·T
  std::size_t in = 0;
  std::size_t out = 0;
};

/// y = x·w + b (b may be empty: no bias).
void linear_forward(std::span<const float> x, std::span<const float> w, std::span<const float> b, std::span<float> y,
                    linear_dims d, executor* ex = nullptr);
/// B: dx (=, or += when accumulate) dy·wᵀ.
void linear_backward_input(std::span<const float> dy, std::span<const float> w, std::span<float> dx, linear_dims d,
                           bool accumulate, executor* ex = nullptr);
/// W: dw += xᵀ·dy and db += Σ_rows dy (db may be empty).
void linear_backward_weight(std::span<const float> x, std::span<const float> dy, std::span<float> dw,
                            std::span<float> db, linear_dims d, executor* ex = nullptr);
/// B then W in one call (what a non-pipelined backward does).
void linear_backward(std::span<const float> x, std::span<const float> dy, std::span<const float> w, std::span<float> dx,
                     std::span<float> dw, std::span<float> db, linear_dims d, bool accumulate, executor* ex = nullptr);

/// The tied LM head: logits [rows, out=vocab] = x [rows, in=embd] · wteᵀ, wte [vocab, embd]. Keeps nothing; W needs x.
void tied_head_forward(std::span<const float> x, std::span<const float> wte, std::span<float> logits, linear_dims d,
                       executor* ex = nullptr);
/// B: dx = dlogits · wte (overwrites dx).
void tied_head_backward_input(std::span<const float> dlogits, std::span<const float> wte, std::span<float> dx,
                              linear_dims d, executor* ex = nullptr);
/// W: dwte += dlogitsᵀ · x.
void tied_head_backward_weight(std::span<const float> x, std::span<const float> dlogits, std::span<float> dwte,
                               linear_dims d, executor* ex = nullptr);

}  // namespace taskpipe::nn
