#include "taskpipe/nn/elementwise.hpp"

#include "../check.hpp"
#include "../kernels.hpp"
#include "taskpipe/nn/detail/parallel.hpp"

namespace taskpipe::nn {
namespace {

constexpr std::size_t min_block = 4096;

}  // namespace

void gelu_forward(std::span<const float> x, std::span<float> y, executor* ex) {
  detail::expect_size(y.size(), x.size(), "gelu_forward", "y");
  detail::for_blocks(ex, x.size(), min_block, 16, [&](std::size_t i0, std::size_t i1) {
    detail::gelu_forward_range(x.data() + i0, y.data() + i0, i1 - i0);
  });
}

void gelu_backward(std::span<const float> dy, std::span<const float> x, std::span<float> dx, bool accumulate,
                   executor* ex) {
  detail::expect_size(dy.size(), x.size(), "gelu_backward", "dy");
  detail::expect_size(dx.size(), x.size(), "gelu_backward", "dx");
  detail::for_blocks(ex, x.size(), min_block, 16, [&](std::size_t i0, std::size_t i1) {
    detail::gelu_backward_range(dy.data() + i0, x.data() + i0, dx.data() + i0, i1 - i0, accumulate);
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
