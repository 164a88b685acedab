#include "taskpipe/nn/elementwise.hpp"

#include "../check.hpp"
#include "../fast_math.hpp"
#include "taskpipe/nn/detail/parallel.hpp"

namespace taskpipe::nn {
namespace {

constexpr float sqrt_2_over_pi = 0.7978845608028654F;
constexpr float gelu_c = 0.044715F;
constexpr std::size_t min_block = 4096;

}  // namespace

void gelu_forward(std::span<const float> x, std::span<float> y, executor* ex) {
  detail::expect_size(y.size(), x.size(), "gelu_forward", "y");
  detail::for_blocks(ex, x.size(), min_block, 16, [&](std::size_t i0, std::size_t i1) {
    const float* xp = x.data();
    float* yp = y.data();
    for (std::size_t i = i0; i < i1; ++i) {
      const float v = xp[i];
      const float t = detail::tanh_approx(sqrt_2_over_pi * (v + gelu_c * v * v * v));
      yp[i] = 0.5F * v * (1.0F + t);
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
      const float t = detail::tanh_approx(sqrt_2_over_pi * (v + gelu_c * v * v * v));
      const float du = sqrt_2_over_pi * (1.0F + 3.0F * gelu_c * v * v);
      return 0.5F * (1.0F + t) + 0.5F * v * (1.0F - t * t) * du;
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
