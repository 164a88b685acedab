// taskpipe/nn/embedding.hpp — token plus learned position embedding: y[b·T + t] = wte[token] + wpe[t].
//
// Shapes: tokens [batch·seq] (ids in [0, vocab)), wte [vocab, c], wpe [context, c] with seq <= context, y [batch·seq,
// c]. Its input is integers, so there is no B (nothing upstream to hand a gradient to); W scatters dy into the rows of
// wte and wpe that F read. What F keeps: nothing itself; W needs the tokens (the caller keeps a copy) and dy.
// Parallelism: F by row blocks; W by column blocks (each task adds its columns over all rows in row order, so a
// token repeated in the batch is summed in the same order whatever the worker count).
// Throws taskpipe::invalid_argument for a token outside [0, vocab) (naming it and its position) or bad sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace taskpipe {
class executor;
}

namespace taskpipe::nn {

struct embedding_dims {
  std::size_t batch = 0;
  std::size_t seq = 0;
  std::size_t vocab = 0;
  std::size_t context = 0;
  std::size_t c = 0;
};

void embedding_forward(std::span<const std::int32_t> tokens, std::span<const float> wte, std::span<const float> wpe,
                       std::span<float> y, embedding_dims d, executor* ex = nullptr);
/// W: dwte[token] += dy row, dwpe[t] += dy row.
void embedding_backward_weight(std::span<const std::int32_t> tokens, std::span<const float> dy, std::span<float> dwte,
                               std::span<float> dwpe, embedding_dims d, executor* ex = nullptr);

/// Throws taskpipe::invalid_argument naming the first id outside [0, vocab) and its index; `what` is "token" or
/// "target".
void check_token_ids(std::span<const std::int32_t> ids, std::size_t vocab, const char* what);

}  // namespace taskpipe::nn
