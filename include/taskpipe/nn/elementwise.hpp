// taskpipe/nn/elementwise.hpp — the parameter-free pointwise ops: GELU (tanh form, Hugging Face's "gelu_new") and
// the residual add.
//
// gelu(x) = 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))). F keeps nothing itself; B needs F's input x (and dy).
// The fast path evaluates it as x·σ(2u) (the same function, no cancellation) through a vectorisable exp.
// Parallelism: row blocks of the flat range. Throws taskpipe::invalid_argument on mismatched sizes.
#pragma once

#include <span>

namespace taskpipe {
class executor;
}

namespace taskpipe::nn {

void gelu_forward(std::span<const float> x, std::span<float> y, executor* ex = nullptr);
/// B: dx (=, or += when accumulate) dy · gelu'(x).
void gelu_backward(std::span<const float> dy, std::span<const float> x, std::span<float> dx, bool accumulate,
                   executor* ex = nullptr);
/// y += x (the residual connection; its backward hands dy to both branches unchanged).
void add_inplace(std::span<float> y, std::span<const float> x, executor* ex = nullptr);

}  // namespace taskpipe::nn
