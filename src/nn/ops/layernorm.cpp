#include "taskpipe/nn/layernorm.hpp"

#include <cmath>

#include "../check.hpp"
#include "taskpipe/nn/detail/parallel.hpp"

namespace taskpipe::nn {
namespace {

constexpr std::size_t min_rows = 16;

void check(std::size_t x, std::size_t mean, std::size_t rstd, layernorm_dims d, const char* op) {
  detail::expect_size(x, d.rows * d.c, op, "x");
  detail::expect_size(mean, d.rows, op, "mean");
  detail::expect_size(rstd, d.rows, op, "rstd");
}

// One row of B: dx = rstd · (g - mean(g) - x̂ · mean(g·x̂)) with g = dy · weight.
void backward_input_row(const float* dy, const float* x, float mean, float rstd, const float* w, float* dx,
                        std::size_t c, bool accumulate) {
  float sum_g = 0.0F;
  float sum_gx = 0.0F;
  for (std::size_t j = 0; j < c; ++j) {
    const float g = dy[j] * w[j];
    sum_g += g;
    sum_gx += g * (x[j] - mean) * rstd;
  }
  const float inv_c = 1.0F / static_cast<float>(c);
  const float mg = sum_g * inv_c;
  const float mgx = sum_gx * inv_c;
  if (accumulate) {
    for (std::size_t j = 0; j < c; ++j) {
      const float xh = (x[j] - mean) * rstd;
      dx[j] += rstd * (dy[j] * w[j] - mg - xh * mgx);
    }
  } else {
    for (std::size_t j = 0; j < c; ++j) {
      const float xh = (x[j] - mean) * rstd;
      dx[j] = rstd * (dy[j] * w[j] - mg - xh * mgx);
    }
  }
}

}  // namespace

void layernorm_forward(std::span<const float> x, std::span<const float> weight, std::span<const float> bias,
                       std::span<float> y, std::span<float> mean, std::span<float> rstd, layernorm_dims d,
                       executor* ex) {
  check(x.size(), mean.size(), rstd.size(), d, "layernorm_forward");
  detail::expect_size(weight.size(), d.c, "layernorm_forward", "weight");
  detail::expect_size(bias.size(), d.c, "layernorm_forward", "bias");
  detail::expect_size(y.size(), d.rows * d.c, "layernorm_forward", "y");
  const float inv_c = 1.0F / static_cast<float>(d.c);
  detail::for_blocks(ex, d.rows, min_rows, 1, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const float* xr = x.data() + r * d.c;
      float* yr = y.data() + r * d.c;
      float s = 0.0F;
      for (std::size_t j = 0; j < d.c; ++j) {
        s += xr[j];
      }
      const float m = s * inv_c;
      float v = 0.0F;
      for (std::size_t j = 0; j < d.c; ++j) {
        const float t = xr[j] - m;
        v += t * t;
      }
      const float rs = 1.0F / std::sqrt(v * inv_c + layernorm_eps);
      for (std::size_t j = 0; j < d.c; ++j) {
        yr[j] = (xr[j] - m) * rs * weight[j] + bias[j];
      }
      mean[r] = m;
      rstd[r] = rs;
    }
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
    for (std::size_t r = r0; r < r1; ++r) {
      backward_input_row(dy.data() + r * d.c, x.data() + r * d.c, mean[r], rstd[r], weight.data(), dx.data() + r * d.c,
                         d.c, accumulate);
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
  for (std::size_t r = 0; r < d.rows; ++r) {
    const float* dyr = dy.data() + r * d.c;
    const float* xr = x.data() + r * d.c;
    backward_input_row(dyr, xr, mean[r], rstd[r], weight.data(), dx.data() + r * d.c, d.c, accumulate);
    for (std::size_t j = 0; j < d.c; ++j) {
      dw[j] += dyr[j] * ((xr[j] - mean[r]) * rstd[r]);
      db[j] += dyr[j];
    }
  }
}

}  // namespace taskpipe::nn
