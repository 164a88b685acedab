// A double-precision GPT-2 built from the reference ops, reading a fast model's parameters: the oracle for a whole
// forward_backward.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "taskpipe/nn/gpt2.hpp"

namespace taskpipe::nn::test {

struct reference_result {
  double loss = 0.0;
  std::vector<std::vector<double>> grads;  ///< aligned with model.parameters()
};

/// The mean cross-entropy and every parameter's gradient, in double, for the model's current parameters.
reference_result reference_forward_backward(gpt2& model, std::span<const std::int32_t> tokens,
                                            std::span<const std::int32_t> targets, std::size_t batch, std::size_t seq);

}  // namespace taskpipe::nn::test
