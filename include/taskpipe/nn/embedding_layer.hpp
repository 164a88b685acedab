// taskpipe/nn/embedding_layer.hpp — GPT-2's first layer: token embedding wte [vocab, embd] plus learned position
// embedding wpe [context, embd].
//
// F reads mb.tokens (checked to lie in [0, vocab); seq <= context) and ignores its tensor input. It keeps a copy of
// the tokens for W. B has no input to hand a gradient to: it only stores dy for W and returns an empty tensor. W
// scatters dy into wte's and wpe's gradients. In a pipeline the LM head on the last stage holds its own copy of wte
// (see head_layer.hpp); the two wte gradients must be summed before the optimizer step.
// Init: both tables N(0, 0.02), drawn from the streams derive_seed(seed, "wte.weight") / ("wpe.weight").
// Thread safety and errors: as in layer.hpp.
#pragma once

#include <cstdint>

#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/nn/layer.hpp"

namespace taskpipe::nn {

class embedding_layer final : public layer {
 public:
  /// Throws taskpipe::invalid_argument when `c` does not validate.
  embedding_layer(const gpt2_config& c, std::uint64_t seed, memory_ledger* ledger = nullptr);

  [[nodiscard]] const std::string& name() const noexcept override { return m_name; }
  std::vector<parameter*> parameters() override { return {&m_wte, &m_wpe}; }
  forward_result forward(tensor x, const micro_batch& mb, executor* ex) override;
  tensor backward_input(layer_state& s, tensor dy, executor* ex) override;
  void backward_weight(layer_state& s, executor* ex) override;
  [[nodiscard]] std::vector<gemm_shape> gemms(std::size_t batch, std::size_t seq) const override;

  parameter& wte() noexcept { return m_wte; }
  parameter& wpe() noexcept { return m_wpe; }

 private:
  gpt2_config m_config;
  memory_ledger* m_ledger;
  std::string m_name = "embedding";
  parameter m_wte;
  parameter m_wpe;
};

}  // namespace taskpipe::nn
