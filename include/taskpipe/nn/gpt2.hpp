// taskpipe/nn/gpt2.hpp — the GPT-2-architecture language model, computed as Hugging Face's GPT2LMHeadModel does.
//
// The model is a list of layers (layer.hpp): [0] embedding, [1 .. L] blocks h.0 .. h.{L-1}, [L+1] head (final
// LayerNorm + LM head tied to wte + mean cross-entropy). `layers()` gives them to a partitioner; `make_layer` builds
// any one of them alone (a pipeline stage builds only its own), with exactly the values the whole model would give it.
// Parameters are in Hugging Face's names, shapes and layout (`parameters()`: wte, wpe, h.0.ln_1.weight, ..., ln_f.bias,
// the checkpoint order), so a checkpoint is a straight dump; there is no lm_head.weight.
// Init: GPT-2's (see block_layer.hpp), seeded: the same seed gives the same bits, on any worker count.
// `forward_backward` zeroes the gradients, runs F, B and W on one batch and returns the mean cross-entropy over its
// batch·seq targets; `loss` runs F only. With an executor the ops run task-parallel on it (called from outside the
// executor, the whole call runs on one of its workers, so the calling thread does not compete with them).
// Throws: taskpipe::invalid_argument for a bad config, seq outside [1, context], spans not batch·seq long, or ids
// outside [0, vocab); nn::non_finite_error naming the first layer whose output was NaN/inf.
// Thread safety: one call at a time per model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "taskpipe/nn/block_layer.hpp"
#include "taskpipe/nn/embedding_layer.hpp"
#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/nn/head_layer.hpp"
#include "taskpipe/nn/layer.hpp"

namespace taskpipe {
class executor;
}

namespace taskpipe::nn {

/// Layer `index` of the model alone: 0 the embedding, 1 .. layers the blocks, layers + 1 the head (untied: it owns its
/// own wte copy). Throws taskpipe::invalid_argument for an index outside [0, layers + 1].
std::unique_ptr<layer> make_layer(const gpt2_config& c, std::size_t index, std::uint64_t seed,
                                  memory_ledger* ledger = nullptr);

class gpt2 {
 public:
  gpt2(const gpt2_config& c, std::uint64_t seed, memory_ledger* ledger = nullptr);

  [[nodiscard]] const gpt2_config& config() const noexcept { return m_config; }
  [[nodiscard]] memory_ledger* ledger() const noexcept { return m_ledger; }

  /// Every parameter exactly once, in checkpoint order.
  std::vector<parameter*> parameters();
  /// The cuttable layers, in order (embedding, blocks, head); the head is tied to the embedding's wte.
  [[nodiscard]] std::vector<layer*> layers();
  embedding_layer& embedding() noexcept { return *m_embedding; }
  block_layer& block(std::size_t i) { return *m_blocks.at(i); }
  head_layer& head() noexcept { return *m_head; }

  void zero_grad();

  float forward_backward(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets, int batch,
                         int seq, executor* ex = nullptr);
  float loss(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets, int batch, int seq,
             executor* ex = nullptr);
  /// The logits [vocab] after the last token of one sequence; 1 <= tokens.size() <= context.
  std::vector<float> next_token_logits(std::span<const std::int32_t> tokens, executor* ex = nullptr);

  /// Every GEMM of one forward_backward step on batch rows of seq tokens (layer by layer, F then B then W).
  [[nodiscard]] std::vector<gemm_shape> gemms(std::size_t batch, std::size_t seq) const;

 private:
  float run(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets, int batch, int seq,
            bool backward, executor* ex);
  float run_here(const micro_batch& mb, bool backward, executor* ex);

  gpt2_config m_config;
  memory_ledger* m_ledger;
  std::unique_ptr<embedding_layer> m_embedding;
  std::vector<std::unique_ptr<block_layer>> m_blocks;
  std::unique_ptr<head_layer> m_head;
};

}  // namespace taskpipe::nn
