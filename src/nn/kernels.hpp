// src/nn/kernels.hpp — the fast ops' inner loops over contiguous floats (private to the library).
//
// They live in one file so that, on x86-64 with GCC, each is compiled three times (AVX-512, AVX2+FMA, baseline SSE2)
// and the loader picks the widest the CPU has (target_clones): the library stays portable, and the pointwise work
// that sits between the GEMMs runs at the machine's vector width. The arithmetic is the same in every clone (no FMA
// contraction under ISO C++; reductions in 16 fixed lanes), so every clone gives the same bits.
#pragma once

#include <cstddef>

namespace taskpipe::nn::detail {

/// y[i] = gelu(x[i]), i < n.
void gelu_forward_range(const float* x, float* y, std::size_t n) noexcept;
/// dx[i] (= or +=) dy[i]·gelu'(x[i]). dx may alias dy.
void gelu_backward_range(const float* dy, const float* x, float* dx, std::size_t n, bool accumulate) noexcept;
/// Rows i < t of a [t, t] score block: softmax over columns 0..i, columns after i set to 0.
void causal_softmax_rows(float* s, std::size_t t) noexcept;
/// Rows of the softmax backward: ds[i, j] = p[i, j]·(dp[i, j] - Σ_k p[i, k]·dp[i, k])·scale over j <= i, 0 after;
/// ds holds dp on entry.
void causal_softmax_backward_rows(float* ds, const float* p, std::size_t t, float scale) noexcept;
/// LayerNorm forward of rows [r0, r1).
void layernorm_rows(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, std::size_t r0,
                    std::size_t r1, std::size_t c) noexcept;
/// One row of LayerNorm's input gradient; `scratch` holds c floats.
void layernorm_backward_input_row(const float* dy, const float* x, float mean, float rstd, const float* w, float* dx,
                                  std::size_t c, bool accumulate, float* scratch) noexcept;
/// One cross-entropy row: z becomes scale·(softmax(z) - onehot(target)); returns -log softmax(z)[target].
double cross_entropy_row(float* z, std::size_t vocab, std::size_t target, float scale) noexcept;

}  // namespace taskpipe::nn::detail
