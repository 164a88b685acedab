// taskpipe/nn/cross_entropy.hpp — softmax cross-entropy over the vocabulary, fused with its gradient.
//
// `softmax_cross_entropy` reads logits [rows, vocab] and targets [rows] and overwrites the logits, in place, with
// grad_scale · (softmax(logits) - onehot(target)): the gradient of grad_scale · Σ loss. It returns Σ_rows of
// -log softmax(logits)[target] in double (the caller divides by the batch's token count: grad_scale is 1/count for the
// mean). The head's F calls it, so the head keeps only the gradient, which its B and W need (no probabilities).
// Parallelism: row blocks; per-row losses are summed in row order, so the result does not depend on the worker count.
// Throws taskpipe::invalid_argument on a target outside [0, vocab) or bad sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace taskpipe {
class executor;
}

namespace taskpipe::nn {

double softmax_cross_entropy(std::span<float> logits, std::span<const std::int32_t> targets, std::size_t rows,
                             std::size_t vocab, float grad_scale, executor* ex = nullptr);

}  // namespace taskpipe::nn
