#include "blas.hpp"

#include <cblas.h>

#include <atomic>
#include <climits>

#include "taskpipe/error.hpp"

namespace taskpipe::nn::detail {
namespace {

blasint to_blas(std::size_t v) {
  if (v > static_cast<std::size_t>(INT_MAX)) {
    throw invalid_argument("GEMM extent " + std::to_string(v) + " exceeds BLAS's int range");
  }
  return static_cast<blasint>(v);
}

std::atomic<bool> g_blas_ready{false};

}  // namespace

void ensure_single_threaded_blas() noexcept {
  if (!g_blas_ready.load(std::memory_order_acquire)) {
    openblas_set_num_threads(1);
    g_blas_ready.store(true, std::memory_order_release);
  }
}

void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
           std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  if (m == 0 || n == 0) {
    return;
  }
  ensure_single_threaded_blas();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, to_blas(m),
              to_blas(n), to_blas(k), alpha, a, to_blas(lda), b, to_blas(ldb), beta, c, to_blas(ldc));
}

}  // namespace taskpipe::nn::detail
