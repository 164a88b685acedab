// taskpipe/nn/head_layer.hpp — GPT-2's last layer: final LayerNorm ln_f, the LM head tied to wte, and the mean
// softmax cross-entropy.
//
// F: a = ln_f(x); logits = a·wteᵀ [N, vocab]; the loss share mb.loss_scale · Σ_rows CE(logits, mb.targets) is the
// one-element output, and the logits are turned in place into their gradient (scaled by mb.loss_scale). What F keeps:
// x with ln_f's mean and rstd (ln_f's B and W), a (wte's W) and the logits' gradient (B and W). B ignores dy and
// returns dx [N, embd]; it keeps ln_f's output gradient for W. W adds into wte's and ln_f's gradients.
// The tied weight: constructed with `tied_wte` (the embedding's parameter, single-model case) the head reads and
// writes that parameter and does not list it in parameters(). Constructed with nullptr (a pipeline's last stage) it
// owns its own "wte.weight" copy, initialised from the same stream as the embedding's, so the two are equal at
// start; it lists that copy in parameters(), and its gradient must be summed with the embedding's before the step
// (and both copies updated alike).
// Thread safety and errors: as in layer.hpp; F throws taskpipe::invalid_argument when mb.targets is missing or holds an
// id outside [0, vocab).
#pragma once

#include <cstdint>
#include <optional>

#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/nn/layer.hpp"

namespace taskpipe::nn {

class head_layer final : public layer {
 public:
  head_layer(const gpt2_config& c, std::uint64_t seed, parameter* tied_wte, memory_ledger* ledger = nullptr);

  [[nodiscard]] const std::string& name() const noexcept override { return m_name; }
  std::vector<parameter*> parameters() override;
  forward_result forward(tensor x, const micro_batch& mb, executor* ex) override;
  tensor backward_input(layer_state& s, tensor dy, executor* ex) override;
  void backward_weight(layer_state& s, executor* ex) override;
  [[nodiscard]] std::vector<gemm_shape> gemms(std::size_t batch, std::size_t seq) const override;

  /// The logits [rows, vocab] of x [rows, embd] (forward only, for sampling; nothing kept).
  tensor logits(const tensor& x, executor* ex);
  /// The wte this head reads: the embedding's when tied, its own copy otherwise.
  parameter& wte() noexcept { return *m_wte; }
  [[nodiscard]] bool tied() const noexcept { return !m_own_wte.has_value(); }

 private:
  gpt2_config m_config;
  memory_ledger* m_ledger;
  std::string m_name = "head";
  parameter m_lnf_w, m_lnf_b;
  std::optional<parameter> m_own_wte;
  parameter* m_wte;
};

}  // namespace taskpipe::nn
