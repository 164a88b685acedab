#include "taskpipe/nn/elementwise.hpp"

#include "../check.hpp"
#include "../fast_math.hpp"
#include "taskpipe/nn/detail/parallel.hpp"

namespace taskpipe::nn {
namespace {

constexpr float sqrt_2_over_pi = 0.7978845608028654F;
constexpr float gelu_c = 0.044715F;
constexpr std::size_t min_block = 4096;

// gelu(x) = x·σ(2u) with u = sqrt(2/π)(x + 0.044715x³), since (1 + tanh u)/2 = σ(2u) = e/(e + 1), e = exp(2u). In this
// form neither the value nor the derivative subtracts nearly equal numbers (1 + tanh u for very negative u does).
// 2u is capped at 30, where σ is 1 in float, so e stays far from overflow.
inline float sigmoid_2u(float v, float& one_minus) noexcept {
  float two_u = 2.0F * sqrt_2_over_pi * (v + gelu_c * v * v * v);
  two_u = two_u > 30.0F ? 30.0F : two_u;
  const float e = detail::exp_approx(two_u);
  const float inv = 1.0F / (e + 1.0F);
  one_minus = inv;
  return e * inv;
}

}  // namespace

void gelu_forward(std::span<const float> x, std::span<float> y, executor* ex) {
  detail::expect_size(y.size(), x.size(), "gelu_forward", "y");
  detail::for_blocks(ex, x.size(), min_block, 16, [&](std::size_t i0, std::size_t i1) {
    const float* xp = x.data();
    float* yp = y.data();
    for (std::size_t i = i0; i < i1; ++i) {
      float unused = 0.0F;
      yp[i] = xp[i] * sigmoid_2u(xp[i], unused);
    }
  });
}

void gelu_backward(std::span<const float> dy, std::span<const float> x, std::span<float> dx, bool accumulate,
                   executor* ex) {
  detail::expect_size(dy.size(), x.size(), "gelu_backward", "dy");
  detail::expect_size(dx.size(), x.size(), "gelu_backward", "dx");
  detail::for_blocks(ex, x.size(), min_block, 16, [&](std::size_t i0, std::size_t i1) {
    const float* xp = x.data();
    const float* dyp = dy.data();
    float* dxp = dx.data();
    auto grad = [](float v) {
      float q = 0.0F;
      const float s = sigmoid_2u(v, q);
      const float du = sqrt_2_over_pi * (1.0F + 3.0F * gelu_c * v * v);
      return s + 2.0F * v * s * q * du;
    };
    if (accumulate) {
      for (std::size_t i = i0; i < i1; ++i) {
        dxp[i] += grad(xp[i]) * dyp[i];
      }
    } else {
      for (std::size_t i = i0; i < i1; ++i) {
        dxp[i] = grad(xp[i]) * dyp[i];
      }
    }
  });
}

void add_inplace(std::span<float> y, std::span<const float> x, executor* ex) {
  detail::expect_size(x.size(), y.size(), "add_inplace", "x");
  detail::for_blocks(ex, y.size(), min_block, 16, [&](std::size_t i0, std::size_t i1) {
    float* yp = y.data();
    const float* xp = x.data();
    for (std::size_t i = i0; i < i1; ++i) {
      yp[i] += xp[i];
    }
  });
}

}  // namespace taskpipe::nn
