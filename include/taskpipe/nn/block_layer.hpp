// taskpipe/nn/block_layer.hpp — one GPT-2 transformer block h.{i}, pre-LayerNorm:
//   r = x + c_proj(attention(c_attn(ln_1(x))));  y = r + mlp.c_proj(gelu(mlp.c_fc(ln_2(r))))
//
// Parameters (HF names and shapes, d = embd): ln_1.weight/bias [d], attn.c_attn.weight [d, 3d] / bias [3d],
// attn.c_proj.weight [d, d] / bias [d], ln_2.weight/bias [d], mlp.c_fc.weight [d, 4d] / bias [4d],
// mlp.c_proj.weight [4d, d] / bias [d], each prefixed "h.{i}.".
// What F keeps (per micro-batch, N = batch·seq rows): for B — ln_1's and ln_2's inputs with their mean and rstd
// (x, r), qkv [N, 3d] and the attention probabilities [batch, heads, seq, seq], the MLP's pre-activation [N, 4d];
// for W — the inputs of the four linears (ln_1(x), the merged heads, ln_2(r), gelu output [N, 4d]) and x, r again for
// the LayerNorm weights. About 20·N·d floats at seq = 128.
// What B leaves for W: it frees qkv, the probabilities and the pre-activation, and keeps the output gradients of the
// four linears and two LayerNorms (dy, d(c_fc out), d(ln_2 out), d(r), d(qkv), d(ln_1 out)). W frees everything.
// Init: GPT-2's — weights N(0, 0.02), the residual projections attn.c_proj and mlp.c_proj N(0, 0.02/sqrt(2·layers)),
// biases 0, LayerNorm weight 1 and bias 0; each weight from its own stream derive_seed(seed, name).
// Thread safety and errors: as in layer.hpp.
#pragma once

#include <cstdint>

#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/nn/layer.hpp"

namespace taskpipe::nn {

class block_layer final : public layer {
 public:
  /// Block number `index` in [0, c.layers). Throws taskpipe::invalid_argument when `c` does not validate or the index
  /// is out of range.
  block_layer(const gpt2_config& c, int index, std::uint64_t seed, memory_ledger* ledger = nullptr);

  [[nodiscard]] const std::string& name() const noexcept override { return m_name; }
  std::vector<parameter*> parameters() override;
  forward_result forward(tensor x, const micro_batch& mb, executor* ex) override;
  tensor backward_input(layer_state& s, tensor dy, executor* ex) override;
  void backward_weight(layer_state& s, executor* ex) override;
  [[nodiscard]] std::vector<gemm_shape> gemms(std::size_t batch, std::size_t seq) const override;

 private:
  gpt2_config m_config;
  memory_ledger* m_ledger;
  std::string m_name;
  parameter m_ln1_w, m_ln1_b, m_attn_w, m_attn_b, m_proj_w, m_proj_b;
  parameter m_ln2_w, m_ln2_b, m_fc_w, m_fc_b, m_mproj_w, m_mproj_b;
};

}  // namespace taskpipe::nn
