#include "taskpipe/nn/embedding.hpp"

#include <string>

#include "../check.hpp"
#include "taskpipe/nn/detail/parallel.hpp"

namespace taskpipe::nn {
namespace {

void check(std::size_t tokens, std::size_t wte, std::size_t wpe, std::size_t y, embedding_dims d, const char* op) {
  if (d.seq > d.context) {
    throw invalid_argument(std::string(op) + ": sequence length " + std::to_string(d.seq) +
                           " is longer than the model's context " + std::to_string(d.context));
  }
  detail::expect_size(tokens, d.batch * d.seq, op, "tokens");
  detail::expect_size(wte, d.vocab * d.c, op, "wte");
  detail::expect_size(wpe, d.context * d.c, op, "wpe");
  detail::expect_size(y, d.batch * d.seq * d.c, op, "y / dy");
}

}  // namespace

void check_token_ids(std::span<const std::int32_t> ids, std::size_t vocab, const char* what) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= vocab) {
      throw invalid_argument(std::string(what) + " " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                             " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    }
  }
}

void embedding_forward(std::span<const std::int32_t> tokens, std::span<const float> wte, std::span<const float> wpe,
                       std::span<float> y, embedding_dims d, executor* ex) {
  check(tokens.size(), wte.size(), wpe.size(), y.size(), d, "embedding_forward");
  check_token_ids(tokens, d.vocab, "token");
  detail::for_blocks(ex, d.batch * d.seq, 64, 1, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const float* te = wte.data() + static_cast<std::size_t>(tokens[r]) * d.c;
      const float* pe = wpe.data() + (r % d.seq) * d.c;
      float* yr = y.data() + r * d.c;
      for (std::size_t j = 0; j < d.c; ++j) {
        yr[j] = te[j] + pe[j];
      }
    }
  });
}

void embedding_backward_weight(std::span<const std::int32_t> tokens, std::span<const float> dy, std::span<float> dwte,
                               std::span<float> dwpe, embedding_dims d, executor* ex) {
  check(tokens.size(), dwte.size(), dwpe.size(), dy.size(), d, "embedding_backward_weight");
  check_token_ids(tokens, d.vocab, "token");
  detail::for_blocks(ex, d.c, 64, 16, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t r = 0; r < d.batch * d.seq; ++r) {
      const float* g = dy.data() + r * d.c;
      float* te = dwte.data() + static_cast<std::size_t>(tokens[r]) * d.c;
      float* pe = dwpe.data() + (r % d.seq) * d.c;
      for (std::size_t j = c0; j < c1; ++j) {
        te[j] += g[j];
        pe[j] += g[j];
      }
    }
  });
}

}  // namespace taskpipe::nn
