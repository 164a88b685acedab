#include "taskpipe/nn/linear.hpp"

#include "../blas.hpp"
#include "../check.hpp"
#include "taskpipe/nn/detail/parallel.hpp"

namespace taskpipe::nn {
namespace {

// Rows (or columns) per block at least this many, and block starts on multiples of 16 so every block keeps whole
// micro-kernel panels.
constexpr std::size_t min_block = 32;
constexpr std::size_t align = 16;

}  // namespace

void linear_forward(std::span<const float> x, std::span<const float> w, std::span<const float> b, std::span<float> y,
                    linear_dims d, executor* ex) {
  detail::expect_size(x.size(), d.rows * d.in, "linear_forward", "x");
  detail::expect_size(w.size(), d.in * d.out, "linear_forward", "w");
  detail::expect_size_or_empty(b.size(), d.out, "linear_forward", "b");
  detail::expect_size(y.size(), d.rows * d.out, "linear_forward", "y");
  detail::for_blocks(ex, d.rows, min_block, align, [&](std::size_t r0, std::size_t r1) {
    float beta = 0.0F;
    if (!b.empty()) {
      for (std::size_t r = r0; r < r1; ++r) {
        float* yr = y.data() + r * d.out;
        for (std::size_t j = 0; j < d.out; ++j) {
          yr[j] = b[j];
        }
      }
      beta = 1.0F;
    }
    detail::sgemm(false, false, r1 - r0, d.out, d.in, 1.0F, x.data() + r0 * d.in, d.in, w.data(), d.out, beta,
                  y.data() + r0 * d.out, d.out);
  });
}

void linear_backward_input(std::span<const float> dy, std::span<const float> w, std::span<float> dx, linear_dims d,
                           bool accumulate, executor* ex) {
  detail::expect_size(dy.size(), d.rows * d.out, "linear_backward_input", "dy");
  detail::expect_size(w.size(), d.in * d.out, "linear_backward_input", "w");
  detail::expect_size(dx.size(), d.rows * d.in, "linear_backward_input", "dx");
  detail::for_blocks(ex, d.rows, min_block, align, [&](std::size_t r0, std::size_t r1) {
    detail::sgemm(false, true, r1 - r0, d.in, d.out, 1.0F, dy.data() + r0 * d.out, d.out, w.data(), d.out,
                  accumulate ? 1.0F : 0.0F, dx.data() + r0 * d.in, d.in);
  });
}

void linear_backward_weight(std::span<const float> x, std::span<const float> dy, std::span<float> dw,
                            std::span<float> db, linear_dims d, executor* ex) {
  detail::expect_size(x.size(), d.rows * d.in, "linear_backward_weight", "x");
  detail::expect_size(dy.size(), d.rows * d.out, "linear_backward_weight", "dy");
  detail::expect_size(dw.size(), d.in * d.out, "linear_backward_weight", "dw");
  detail::expect_size_or_empty(db.size(), d.out, "linear_backward_weight", "db");
  detail::for_blocks(ex, d.out, min_block, align, [&](std::size_t c0, std::size_t c1) {
    detail::sgemm(true, false, d.in, c1 - c0, d.rows, 1.0F, x.data(), d.in, dy.data() + c0, d.out, 1.0F, dw.data() + c0,
                  d.out);
    if (!db.empty()) {
      float* dbp = db.data();
      for (std::size_t r = 0; r < d.rows; ++r) {
        const float* dyr = dy.data() + r * d.out;
        for (std::size_t j = c0; j < c1; ++j) {
          dbp[j] += dyr[j];
        }
      }
    }
  });
}

void linear_backward(std::span<const float> x, std::span<const float> dy, std::span<const float> w, std::span<float> dx,
                     std::span<float> dw, std::span<float> db, linear_dims d, bool accumulate, executor* ex) {
  linear_backward_input(dy, w, dx, d, accumulate, ex);
  linear_backward_weight(x, dy, dw, db, d, ex);
}

void tied_head_forward(std::span<const float> x, std::span<const float> wte, std::span<float> logits, linear_dims d,
                       executor* ex) {
  detail::expect_size(x.size(), d.rows * d.in, "tied_head_forward", "x");
  detail::expect_size(wte.size(), d.out * d.in, "tied_head_forward", "wte");
  detail::expect_size(logits.size(), d.rows * d.out, "tied_head_forward", "logits");
  detail::for_blocks(ex, d.rows, min_block, align, [&](std::size_t r0, std::size_t r1) {
    detail::sgemm(false, true, r1 - r0, d.out, d.in, 1.0F, x.data() + r0 * d.in, d.in, wte.data(), d.in, 0.0F,
                  logits.data() + r0 * d.out, d.out);
  });
}

void tied_head_backward_input(std::span<const float> dlogits, std::span<const float> wte, std::span<float> dx,
                              linear_dims d, executor* ex) {
  detail::expect_size(dlogits.size(), d.rows * d.out, "tied_head_backward_input", "dlogits");
  detail::expect_size(wte.size(), d.out * d.in, "tied_head_backward_input", "wte");
  detail::expect_size(dx.size(), d.rows * d.in, "tied_head_backward_input", "dx");
  detail::for_blocks(ex, d.rows, min_block, align, [&](std::size_t r0, std::size_t r1) {
    detail::sgemm(false, false, r1 - r0, d.in, d.out, 1.0F, dlogits.data() + r0 * d.out, d.out, wte.data(), d.in, 0.0F,
                  dx.data() + r0 * d.in, d.in);
  });
}

void tied_head_backward_weight(std::span<const float> x, std::span<const float> dlogits, std::span<float> dwte,
                               linear_dims d, executor* ex) {
  detail::expect_size(x.size(), d.rows * d.in, "tied_head_backward_weight", "x");
  detail::expect_size(dlogits.size(), d.rows * d.out, "tied_head_backward_weight", "dlogits");
  detail::expect_size(dwte.size(), d.out * d.in, "tied_head_backward_weight", "dwte");
  // dwte [vocab, embd] += dlogitsᵀ · x, split over the vocabulary rows of dwte.
  detail::for_blocks(ex, d.out, min_block, align, [&](std::size_t v0, std::size_t v1) {
    detail::sgemm(true, false, v1 - v0, d.in, d.rows, 1.0F, dlogits.data() + v0, d.out, x.data(), d.in, 1.0F,
                  dwte.data() + v0 * d.in, d.in);
  });
}

}  // namespace taskpipe::nn
