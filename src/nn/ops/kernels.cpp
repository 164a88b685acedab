#include "../kernels.hpp"

#include <cmath>

#include "../fast_math.hpp"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)  // ifunc resolvers run before a sanitizer runtime is set up
#define TASKPIPE_NN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TASKPIPE_NN_CLONES
#endif

namespace taskpipe::nn::detail {
namespace {

constexpr float sqrt_2_over_pi = 0.7978845608028654F;
constexpr float gelu_c = 0.044715F;

// gelu(x) = x·σ(2u) with u = sqrt(2/π)(x + 0.044715x³), since (1 + tanh u)/2 = σ(2u) = e/(e + 1), e = exp(2u). In this
// form neither the value nor the derivative subtracts nearly equal numbers (1 + tanh u for very negative u does).
// 2u is capped at 30, where σ is 1 in float, so e stays far from overflow. Returns σ(2u); `one_minus` gets 1 - σ(2u).
inline float sigmoid_2u(float v, float& one_minus) noexcept {
  float two_u = 2.0F * sqrt_2_over_pi * (v + gelu_c * v * v * v);
  two_u = two_u > 30.0F ? 30.0F : two_u;
  const float e = exp_approx(two_u);
  const float inv = 1.0F / (e + 1.0F);
  one_minus = inv;
  return e * inv;
}

// Reductions in 16 fixed lanes: GCC vectorises them without being allowed to reassociate (no -ffast-math), and the
// summation order is the same in every clone, so every clone gives the same bits.
constexpr std::size_t lanes = 16;

inline float lane_sum(const float* x, std::size_t n) noexcept {
  float acc[lanes] = {};
  std::size_t j = 0;
  for (; j + lanes <= n; j += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) {
      acc[k] += x[j + k];
    }
  }
  float s = 0.0F;
  for (const float a : acc) {
    s += a;
  }
  for (; j < n; ++j) {
    s += x[j];
  }
  return s;
}

inline float lane_dot(const float* x, const float* y, std::size_t n) noexcept {
  float acc[lanes] = {};
  std::size_t j = 0;
  for (; j + lanes <= n; j += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) {
      acc[k] += x[j + k] * y[j + k];
    }
  }
  float s = 0.0F;
  for (const float a : acc) {
    s += a;
  }
  for (; j < n; ++j) {
    s += x[j] * y[j];
  }
  return s;
}

inline float lane_max(const float* x, std::size_t n) noexcept {
  float acc[lanes];
  for (std::size_t k = 0; k < lanes; ++k) {
    acc[k] = x[0];
  }
  std::size_t j = 0;
  for (; j + lanes <= n; j += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) {
      acc[k] = x[j + k] > acc[k] ? x[j + k] : acc[k];
    }
  }
  float m = acc[0];
  for (const float a : acc) {
    m = a > m ? a : m;
  }
  for (; j < n; ++j) {
    m = x[j] > m ? x[j] : m;
  }
  return m;
}

// Σ (x - m)².
inline float lane_sq_dev(const float* x, float m, std::size_t n) noexcept {
  float acc[lanes] = {};
  std::size_t j = 0;
  for (; j + lanes <= n; j += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) {
      const float d = x[j + k] - m;
      acc[k] += d * d;
    }
  }
  float s = 0.0F;
  for (const float a : acc) {
    s += a;
  }
  for (; j < n; ++j) {
    s += (x[j] - m) * (x[j] - m);
  }
  return s;
}

// e = exp(x - m) in place; returns Σ e.
inline float exp_shift_sum(float* x, float m, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) {
    x[j] = exp_approx(x[j] - m);
  }
  return lane_sum(x, n);
}

inline float gelu_grad(float v) noexcept {
  float q = 0.0F;
  const float s = sigmoid_2u(v, q);
  const float du = sqrt_2_over_pi * (1.0F + 3.0F * gelu_c * v * v);
  return s + 2.0F * v * s * q * du;
}

}  // namespace

TASKPIPE_NN_CLONES void gelu_forward_range(const float* x, float* y, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    float unused = 0.0F;
    y[i] = x[i] * sigmoid_2u(x[i], unused);
  }
}

TASKPIPE_NN_CLONES void gelu_backward_range(const float* dy, const float* x, float* dx, std::size_t n,
                                            bool accumulate) noexcept {
  if (accumulate) {
    for (std::size_t i = 0; i < n; ++i) {
      dx[i] += gelu_grad(x[i]) * dy[i];
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      dx[i] = gelu_grad(x[i]) * dy[i];
    }
  }
}

TASKPIPE_NN_CLONES void causal_softmax_rows(float* s, std::size_t t) noexcept {
  for (std::size_t i = 0; i < t; ++i) {
    float* row = s + i * t;
    const float mx = lane_max(row, i + 1);
    const float sum = exp_shift_sum(row, mx, i + 1);
    const float inv = 1.0F / sum;
    for (std::size_t j = 0; j <= i; ++j) {
      row[j] *= inv;
    }
    for (std::size_t j = i + 1; j < t; ++j) {
      row[j] = 0.0F;
    }
  }
}

TASKPIPE_NN_CLONES void causal_softmax_backward_rows(float* ds, const float* p, std::size_t t, float scale) noexcept {
  for (std::size_t i = 0; i < t; ++i) {
    float* row = ds + i * t;
    const float* pr = p + i * t;
    const float dot = lane_dot(row, pr, i + 1);
    for (std::size_t j = 0; j <= i; ++j) {
      row[j] = pr[j] * (row[j] - dot) * scale;
    }
    for (std::size_t j = i + 1; j < t; ++j) {
      row[j] = 0.0F;
    }
  }
}

TASKPIPE_NN_CLONES void layernorm_rows(const float* x, const float* w, const float* b, float* y, float* mean,
                                       float* rstd, std::size_t r0, std::size_t r1, std::size_t c) noexcept {
  const float inv_c = 1.0F / static_cast<float>(c);
  for (std::size_t r = r0; r < r1; ++r) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    const float m = lane_sum(xr, c) * inv_c;
    const float v = lane_sq_dev(xr, m, c);
    const float rs = 1.0F / std::sqrt(v * inv_c + 1e-5F);
    for (std::size_t j = 0; j < c; ++j) {
      yr[j] = (xr[j] - m) * rs * w[j] + b[j];
    }
    mean[r] = m;
    rstd[r] = rs;
  }
}

TASKPIPE_NN_CLONES double cross_entropy_row(float* z, std::size_t vocab, std::size_t target, float scale) noexcept {
  const float mx = lane_max(z, vocab);
  const float zt = z[target];
  const float sum = exp_shift_sum(z, mx, vocab);
  const float k = scale / sum;
  for (std::size_t j = 0; j < vocab; ++j) {
    z[j] *= k;
  }
  z[target] -= scale;
  return static_cast<double>(std::log(sum)) - static_cast<double>(zt - mx);
}

TASKPIPE_NN_CLONES void layernorm_backward_input_row(const float* dy, const float* x, float mean, float rstd,
                                                     const float* w, float* dx, std::size_t c, bool accumulate,
                                                     float* scratch) noexcept {
  // scratch[j] = g_j = dy_j·w_j; then the two means the formula needs, in lanes.
  for (std::size_t j = 0; j < c; ++j) {
    scratch[j] = dy[j] * w[j];
  }
  const float inv_c = 1.0F / static_cast<float>(c);
  const float mg = lane_sum(scratch, c) * inv_c;
  float acc[lanes] = {};
  std::size_t j = 0;
  for (; j + lanes <= c; j += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) {
      acc[k] += scratch[j + k] * ((x[j + k] - mean) * rstd);
    }
  }
  float sgx = 0.0F;
  for (const float a : acc) {
    sgx += a;
  }
  for (; j < c; ++j) {
    sgx += scratch[j] * ((x[j] - mean) * rstd);
  }
  const float mgx = sgx * inv_c;
  if (accumulate) {
    for (std::size_t i = 0; i < c; ++i) {
      dx[i] += rstd * (scratch[i] - mg - ((x[i] - mean) * rstd) * mgx);
    }
  } else {
    for (std::size_t i = 0; i < c; ++i) {
      dx[i] = rstd * (scratch[i] - mg - ((x[i] - mean) * rstd) * mgx);
    }
  }
}

}  // namespace taskpipe::nn::detail
