#include "taskpipe/nn/cross_entropy.hpp"

#include <cmath>
#include <vector>

#include "../check.hpp"
#include "../fast_math.hpp"
#include "taskpipe/nn/detail/parallel.hpp"
#include "taskpipe/nn/embedding.hpp"

namespace taskpipe::nn {

double softmax_cross_entropy(std::span<float> logits, std::span<const std::int32_t> targets, std::size_t rows,
                             std::size_t vocab, float grad_scale, executor* ex) {
  detail::expect_size(logits.size(), rows * vocab, "softmax_cross_entropy", "logits");
  detail::expect_size(targets.size(), rows, "softmax_cross_entropy", "targets");
  check_token_ids(targets, vocab, "target");
  std::vector<double> row_loss(rows);
  detail::for_blocks(ex, rows, 16, 1, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      float* z = logits.data() + r * vocab;
      float mx = z[0];
      for (std::size_t j = 1; j < vocab; ++j) {
        mx = z[j] > mx ? z[j] : mx;
      }
      const auto tgt = static_cast<std::size_t>(targets[r]);
      const float zt = z[tgt];
      float sum = 0.0F;
      for (std::size_t j = 0; j < vocab; ++j) {
        z[j] = detail::exp_approx(z[j] - mx);
        sum += z[j];
      }
      row_loss[r] = static_cast<double>(std::log(sum)) - static_cast<double>(zt - mx);
      const float k = grad_scale / sum;
      for (std::size_t j = 0; j < vocab; ++j) {
        z[j] *= k;
      }
      z[tgt] -= grad_scale;
    }
  });
  double total = 0.0;
  for (const double l : row_loss) {
    total += l;
  }
  return total;
}

}  // namespace taskpipe::nn
