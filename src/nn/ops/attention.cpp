#include "taskpipe/nn/attention.hpp"

#include <cmath>

#include "../blas.hpp"
#include "../check.hpp"
#include "../kernels.hpp"
#include "taskpipe/nn/detail/parallel.hpp"
#include "taskpipe/nn/tensor.hpp"

namespace taskpipe::nn {
namespace {

void check(std::size_t qkv, std::size_t out, std::size_t probs, attention_dims d, const char* op) {
  if (d.heads == 0 || d.embd % d.heads != 0) {
    throw invalid_argument(std::string(op) + ": heads = " + std::to_string(d.heads) +
                           " must divide embd = " + std::to_string(d.embd));
  }
  const std::size_t rows = d.batch * d.seq;
  detail::expect_size(qkv, rows * 3 * d.embd, op, "qkv");
  detail::expect_size(out, rows * d.embd, op, "out / dout");
  detail::expect_size(probs, d.batch * d.heads * d.seq * d.seq, op, "probs");
}

}  // namespace

void attention_forward(std::span<const float> qkv, std::span<float> out, std::span<float> probs, attention_dims d,
                       executor* ex) {
  check(qkv.size(), out.size(), probs.size(), d, "attention_forward");
  const std::size_t t_len = d.seq;
  const std::size_t hd = d.embd / d.heads;
  const std::size_t ld = 3 * d.embd;
  const float scale = 1.0F / std::sqrt(static_cast<float>(hd));
  detail::for_blocks(ex, d.batch * d.heads, 1, 1, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) {
      const std::size_t b = p / d.heads;
      const std::size_t h = p % d.heads;
      const float* q = qkv.data() + b * t_len * ld + h * hd;
      const float* k = q + d.embd;
      const float* v = q + 2 * d.embd;
      float* s = probs.data() + p * t_len * t_len;
      detail::sgemm(false, true, t_len, t_len, hd, scale, q, ld, k, ld, 0.0F, s, t_len);
      detail::causal_softmax_rows(s, t_len);
      detail::sgemm(false, false, t_len, hd, t_len, 1.0F, s, t_len, v, ld, 0.0F,
                    out.data() + b * t_len * d.embd + h * hd, d.embd);
    }
  });
}

void attention_backward(std::span<const float> dout, std::span<const float> qkv, std::span<const float> probs,
                        std::span<float> dqkv, attention_dims d, executor* ex) {
  check(qkv.size(), dout.size(), probs.size(), d, "attention_backward");
  detail::expect_size(dqkv.size(), qkv.size(), "attention_backward", "dqkv");
  const std::size_t t_len = d.seq;
  const std::size_t hd = d.embd / d.heads;
  const std::size_t ld = 3 * d.embd;
  const float scale = 1.0F / std::sqrt(static_cast<float>(hd));
  detail::for_blocks(ex, d.batch * d.heads, 1, 1, [&](std::size_t p0, std::size_t p1) {
    tensor ds({t_len, t_len}, memory_category::workspace, nullptr, uninitialized);
    for (std::size_t p = p0; p < p1; ++p) {
      const std::size_t b = p / d.heads;
      const std::size_t h = p % d.heads;
      const std::size_t off = b * t_len * ld + h * hd;
      const float* q = qkv.data() + off;
      const float* k = q + d.embd;
      const float* v = q + 2 * d.embd;
      float* dq = dqkv.data() + off;
      float* dk = dq + d.embd;
      float* dv = dq + 2 * d.embd;
      const float* pm = probs.data() + p * t_len * t_len;
      const float* dob = dout.data() + b * t_len * d.embd + h * hd;
      // dv = Pᵀ · dout; dP = dout · vᵀ (into ds, then turned into dS in place).
      detail::sgemm(true, false, t_len, hd, t_len, 1.0F, pm, t_len, dob, d.embd, 0.0F, dv, ld);
      detail::sgemm(false, true, t_len, t_len, hd, 1.0F, dob, d.embd, v, ld, 0.0F, ds.data(), t_len);
      detail::causal_softmax_backward_rows(ds.data(), pm, t_len, scale);
      // dq = dS · k; dk = dSᵀ · q (the 1/sqrt(hd) already folded into dS).
      detail::sgemm(false, false, t_len, hd, t_len, 1.0F, ds.data(), t_len, k, ld, 0.0F, dq, ld);
      detail::sgemm(true, false, t_len, hd, t_len, 1.0F, ds.data(), t_len, q, ld, 0.0F, dk, ld);
    }
  });
}

}  // namespace taskpipe::nn
