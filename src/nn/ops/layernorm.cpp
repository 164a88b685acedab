#include "taskpipe/nn/layernorm.hpp"

#include <cmath>
#include <vector>

#include "../check.hpp"
#include "../kernels.hpp"
#include "taskpipe/nn/detail/parallel.hpp"

namespace taskpipe::nn {
namespace {

constexpr std::size_t min_rows = 16;

void check(std::size_t x, std::size_t mean, std::size_t rstd, layernorm_dims d, const char* op) {
  detail::expect_size(x, d.rows * d.c, op, "x");
  detail::expect_size(mean, d.rows, op, "mean");
  detail::expect_size(rstd, d.rows, op, "rstd");
}

}  // namespace

void layernorm_forward(std::span<const float> x, std::span<const float> weight, std::span<const float> bias,
                       std::span<float> y, std::span<float> mean, std::span<float> rstd, layernorm_dims d,
                       executor* ex) {
  check(x.size(), mean.size(), rstd.size(), d, "layernorm_forward");
  detail::expect_size(weight.size(), d.c, "layernorm_forward", "weight");
  detail::expect_size(bias.size(), d.c, "layernorm_forward", "bias");
  detail::expect_size(y.size(), d.rows * d.c, "layernorm_forward", "y");
  detail::for_blocks(ex, d.rows, min_rows, 1, [&](std::size_t r0, std::size_t r1) {
    detail::layernorm_rows(x.data(), weight.data(), bias.data(), y.data(), mean.data(), rstd.data(), r0, r1, d.c);
  });
}

void layernorm_backward_input(std::span<const float> dy, std::span<const float> x, std::span<const float> mean,
                              std::span<const float> rstd, std::span<const float> weight, std::span<float> dx,
                              layernorm_dims d, bool accumulate, executor* ex) {
  check(x.size(), mean.size(), rstd.size(), d, "layernorm_backward_input");
  detail::expect_size(dy.size(), d.rows * d.c, "layernorm_backward_input", "dy");
  detail::expect_size(weight.size(), d.c, "layernorm_backward_input", "weight");
  detail::expect_size(dx.size(), d.rows * d.c, "layernorm_backward_input", "dx");
  detail::for_blocks(ex, d.rows, min_rows, 1, [&](std::size_t r0, std::size_t r1) {
    std::vector<float> scratch(d.c);
    for (std::size_t r = r0; r < r1; ++r) {
      detail::layernorm_backward_input_row(dy.data() + r * d.c, x.data() + r * d.c, mean[r], rstd[r], weight.data(),
                                           dx.data() + r * d.c, d.c, accumulate, scratch.data());
    }
  });
}

void layernorm_backward_weight(std::span<const float> dy, std::span<const float> x, std::span<const float> mean,
                               std::span<const float> rstd, std::span<float> dw, std::span<float> db, layernorm_dims d,
                               executor* ex) {
  check(x.size(), mean.size(), rstd.size(), d, "layernorm_backward_weight");
  detail::expect_size(dy.size(), d.rows * d.c, "layernorm_backward_weight", "dy");
  detail::expect_size(dw.size(), d.c, "layernorm_backward_weight", "dw");
  detail::expect_size(db.size(), d.c, "layernorm_backward_weight", "db");
  detail::for_blocks(ex, d.c, 64, 16, [&](std::size_t c0, std::size_t c1) {
    float* dwp = dw.data();
    float* dbp = db.data();
    for (std::size_t r = 0; r < d.rows; ++r) {
      const float* dyr = dy.data() + r * d.c;
      const float* xr = x.data() + r * d.c;
      const float m = mean[r];
      const float rs = rstd[r];
      for (std::size_t j = c0; j < c1; ++j) {
        dwp[j] += dyr[j] * ((xr[j] - m) * rs);
        dbp[j] += dyr[j];
      }
    }
  });
}

void layernorm_backward(std::span<const float> dy, std::span<const float> x, std::span<const float> mean,
                        std::span<const float> rstd, std::span<const float> weight, std::span<float> dx,
                        std::span<float> dw, std::span<float> db, layernorm_dims d, bool accumulate) {
  check(x.size(), mean.size(), rstd.size(), d, "layernorm_backward");
  detail::expect_size(dy.size(), d.rows * d.c, "layernorm_backward", "dy");
  detail::expect_size(weight.size(), d.c, "layernorm_backward", "weight");
  detail::expect_size(dx.size(), d.rows * d.c, "layernorm_backward", "dx");
  detail::expect_size(dw.size(), d.c, "layernorm_backward", "dw");
  detail::expect_size(db.size(), d.c, "layernorm_backward", "db");
  std::vector<float> scratch(d.c);
  for (std::size_t r = 0; r < d.rows; ++r) {
    const float* dyr = dy.data() + r * d.c;
    const float* xr = x.data() + r * d.c;
    detail::layernorm_backward_input_row(dyr, xr, mean[r], rstd[r], weight.data(), dx.data() + r * d.c, d.c, accumulate,
                                         scratch.data());
    for (std::size_t j = 0; j < d.c; ++j) {
      dw[j] += dyr[j] * ((xr[j] - mean[r]) * rstd[r]);
      db[j] += dyr[j];
    }
  }
}

}  // namespace taskpipe::nn
