#include "taskpipe/nn/cross_entropy.hpp"

#include <cmath>
#include <vector>

#include "../check.hpp"
#include "../kernels.hpp"
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
      row_loss[r] =
          detail::cross_entropy_row(logits.data() + r * vocab, vocab, static_cast<std::size_t>(targets[r]), grad_scale);
    }
  });
  double total = 0.0;
  for (const double l : row_loss) {
    total += l;
  }
  return total;
}

}  // namespace taskpipe::nn
