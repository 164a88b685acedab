// taskpipe/nn/attention.hpp — causal multi-head self-attention on a fused qkv tensor, as GPT-2 computes it.
//
// Shapes: qkv [batch·seq, 3·embd] (q, k, v side by side, head h at channels h·hd .. h·hd+hd of each), out
// [batch·seq, embd] (heads merged back in order), probs [batch, heads, seq, seq]. Scores are q·kᵀ / sqrt(hd), the
// future (key after query) is masked out before the softmax; masked probabilities are exactly 0.
// No parameters, so no W: B is the whole backward.
// What F keeps: it writes probs (the softmax); the caller keeps probs and qkv, which B needs (with dout).
// Parallelism: by (batch, head) pairs; each pair is four sgemm calls (QKᵀ, PV forward; three in B plus the softmax
// backward) on strided views, no copies. B writes into dqkv (overwrites). Throws taskpipe::invalid_argument on
// mismatched sizes.
#pragma once

#include <cstddef>
#include <span>

namespace taskpipe {
class executor;
}

namespace taskpipe::nn {

struct attention_dims {
  std::size_t batch = 0;
  std::size_t seq = 0;
  std::size_t heads = 0;
  std::size_t embd = 0;  ///< heads · head_dim
};

void attention_forward(std::span<const float> qkv, std::span<float> out, std::span<float> probs, attention_dims d,
                       executor* ex = nullptr);
/// B: dqkv = the gradient of qkv given dout (overwritten).
void attention_backward(std::span<const float> dout, std::span<const float> qkv, std::span<const float> probs,
                        std::span<float> dqkv, attention_dims d, executor* ex = nullptr);

}  // namespace taskpipe::nn
