// src/nn/blas.hpp — the one place the neural-net layer calls BLAS (private to the library).
//
// Row-major single-precision GEMM with std::size_t extents: c[m, n] = alpha · op(a)[m, k] · op(b)[k, n] + beta · c.
// OpenBLAS is made single-threaded when the library loads: parallelism comes from taskpipe's tasks, and an OpenBLAS
// thread pool per call would fight the executor's workers for the cores.
#pragma once

#include <cstddef>

namespace taskpipe::nn::detail {

void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
           std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);

/// Called by every sgemm; cheap after the first time.
void ensure_single_threaded_blas() noexcept;

}  // namespace taskpipe::nn::detail
