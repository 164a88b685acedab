#include "taskpipe/nn/block_layer.hpp"

#include <cmath>

#include "../init.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/attention.hpp"
#include "taskpipe/nn/elementwise.hpp"
#include "taskpipe/nn/layernorm.hpp"
#include "taskpipe/nn/linear.hpp"

namespace taskpipe::nn {
namespace {

struct block_state final : layer_state {
  const layer* owner = nullptr;
  std::size_t batch = 0;
  std::size_t seq = 0;
  int phase = 0;  // 0 after F, 1 after B, 2 spent
  // Kept by F.
  tensor x, mean1, rstd1, a1, qkv, probs, att, r1, mean2, rstd2, a2, h, g;
  // Left by B for W: the output gradients of mlp.c_proj, mlp.c_fc, ln_2, attn.c_proj, attn.c_attn, ln_1.
  tensor dy, dh, da2, dr1, dqkv, da1;
};

block_state& own(layer_state& s, int phase, const layer& l) {
  auto* b = dynamic_cast<block_state*>(&s);
  if (b == nullptr || b->owner != &l || b->phase != phase) {
    throw invalid_argument(l.name() + ": the state is not this layer's, or is in the wrong phase for this call");
  }
  return *b;
}

}  // namespace

block_layer::block_layer(const gpt2_config& c, int index, std::uint64_t seed, memory_ledger* ledger)
    : m_config((c.validate(), c)), m_ledger(ledger) {
  if (index < 0 || index >= c.layers) {
    throw invalid_argument("block index " + std::to_string(index) + " is outside [0, " + std::to_string(c.layers) +
                           ")");
  }
  m_name = "h." + std::to_string(index);
  const auto d = static_cast<std::size_t>(c.embd);
  const std::string p = m_name + ".";
  m_ln1_w = detail::make_parameter(p + "ln_1.weight", {d}, false, ledger);
  m_ln1_b = detail::make_parameter(p + "ln_1.bias", {d}, false, ledger);
  m_attn_w = detail::make_parameter(p + "attn.c_attn.weight", {d, 3 * d}, true, ledger);
  m_attn_b = detail::make_parameter(p + "attn.c_attn.bias", {3 * d}, false, ledger);
  m_proj_w = detail::make_parameter(p + "attn.c_proj.weight", {d, d}, true, ledger);
  m_proj_b = detail::make_parameter(p + "attn.c_proj.bias", {d}, false, ledger);
  m_ln2_w = detail::make_parameter(p + "ln_2.weight", {d}, false, ledger);
  m_ln2_b = detail::make_parameter(p + "ln_2.bias", {d}, false, ledger);
  m_fc_w = detail::make_parameter(p + "mlp.c_fc.weight", {d, 4 * d}, true, ledger);
  m_fc_b = detail::make_parameter(p + "mlp.c_fc.bias", {4 * d}, false, ledger);
  m_mproj_w = detail::make_parameter(p + "mlp.c_proj.weight", {4 * d, d}, true, ledger);
  m_mproj_b = detail::make_parameter(p + "mlp.c_proj.bias", {d}, false, ledger);
  const double residual_std = 0.02 / std::sqrt(2.0 * c.layers);
  detail::init_constant(m_ln1_w, 1.0F);
  detail::init_constant(m_ln2_w, 1.0F);
  detail::init_normal(m_attn_w, seed, 0.02);
  detail::init_normal(m_proj_w, seed, residual_std);
  detail::init_normal(m_fc_w, seed, 0.02);
  detail::init_normal(m_mproj_w, seed, residual_std);
}

std::vector<parameter*> block_layer::parameters() {
  return {&m_ln1_w, &m_ln1_b, &m_attn_w, &m_attn_b, &m_proj_w,  &m_proj_b,
          &m_ln2_w, &m_ln2_b, &m_fc_w,   &m_fc_b,   &m_mproj_w, &m_mproj_b};
}

layer::forward_result block_layer::forward(tensor x, const micro_batch& mb, executor* ex) {
  const std::size_t n = mb.rows();
  const auto d = static_cast<std::size_t>(m_config.embd);
  const auto heads = static_cast<std::size_t>(m_config.heads);
  if (mb.seq == 0 || mb.seq > static_cast<std::size_t>(m_config.context)) {
    throw invalid_argument(m_name + ": sequence length " + std::to_string(mb.seq) + " is outside [1, " +
                           std::to_string(m_config.context) + "]");
  }
  detail::expect_tensor(x, n * d, m_name, "x");
  auto act = [&](std::vector<std::size_t> shape) {
    return tensor(std::move(shape), memory_category::activations, m_ledger, uninitialized);
  };
  tensor mean1 = act({n}), rstd1 = act({n}), a1 = act({n, d}), qkv = act({n, 3 * d});
  tensor probs = act({mb.batch, heads, mb.seq, mb.seq}), att = act({n, d}), r1 = act({n, d});
  tensor mean2 = act({n}), rstd2 = act({n}), a2 = act({n, d}), h = act({n, 4 * d}), g = act({n, 4 * d});
  tensor y = act({n, d});

  layernorm_forward(x.span(), m_ln1_w.value.span(), m_ln1_b.value.span(), a1.span(), mean1.span(), rstd1.span(), {n, d},
                    ex);
  linear_forward(a1.span(), m_attn_w.value.span(), m_attn_b.value.span(), qkv.span(), {n, d, 3 * d}, ex);
  attention_forward(qkv.span(), att.span(), probs.span(), {mb.batch, mb.seq, heads, d}, ex);
  linear_forward(att.span(), m_proj_w.value.span(), m_proj_b.value.span(), r1.span(), {n, d, d}, ex);
  add_inplace(r1.span(), x.span(), ex);
  layernorm_forward(r1.span(), m_ln2_w.value.span(), m_ln2_b.value.span(), a2.span(), mean2.span(), rstd2.span(),
                    {n, d}, ex);
  linear_forward(a2.span(), m_fc_w.value.span(), m_fc_b.value.span(), h.span(), {n, d, 4 * d}, ex);
  gelu_forward(h.span(), g.span(), ex);
  linear_forward(g.span(), m_mproj_w.value.span(), m_mproj_b.value.span(), y.span(), {n, 4 * d, d}, ex);
  add_inplace(y.span(), r1.span(), ex);

  forward_result r{std::move(y), nullptr};
  if (mb.keep_state) {
    auto s = std::make_unique<block_state>();
    s->owner = this;
    s->batch = mb.batch;
    s->seq = mb.seq;
    s->x = std::move(x);
    s->mean1 = std::move(mean1);
    s->rstd1 = std::move(rstd1);
    s->a1 = std::move(a1);
    s->qkv = std::move(qkv);
    s->probs = std::move(probs);
    s->att = std::move(att);
    s->r1 = std::move(r1);
    s->mean2 = std::move(mean2);
    s->rstd2 = std::move(rstd2);
    s->a2 = std::move(a2);
    s->h = std::move(h);
    s->g = std::move(g);
    r.state = std::move(s);
  }
  return r;
}

tensor block_layer::backward_input(layer_state& state, tensor dy, executor* ex) {
  auto& s = own(state, 0, *this);
  const std::size_t n = s.batch * s.seq;
  const auto d = static_cast<std::size_t>(m_config.embd);
  const auto heads = static_cast<std::size_t>(m_config.heads);
  detail::expect_tensor(dy, n * d, m_name, "dy");
  auto act = [&](std::vector<std::size_t> shape) {
    return tensor(std::move(shape), memory_category::activations, m_ledger, uninitialized);
  };

  // MLP: dy -> d(gelu out) -> d(c_fc out) in place -> d(ln_2 out) -> d(r) = dy + ln_2's input gradient.
  s.dh = act({n, 4 * d});
  linear_backward_input(dy.span(), m_mproj_w.value.span(), s.dh.span(), {n, 4 * d, d}, false, ex);
  gelu_backward(s.dh.span(), s.h.span(), s.dh.span(), false, ex);
  s.h = tensor{};
  s.da2 = act({n, d});
  linear_backward_input(s.dh.span(), m_fc_w.value.span(), s.da2.span(), {n, d, 4 * d}, false, ex);
  s.dr1 = detail::copy_of(dy, memory_category::activations, m_ledger);
  layernorm_backward_input(s.da2.span(), s.r1.span(), s.mean2.span(), s.rstd2.span(), m_ln2_w.value.span(),
                           s.dr1.span(), {n, d}, true, ex);

  // Attention: d(r) -> d(merged heads) -> d(qkv) -> d(ln_1 out) -> dx = d(r) + ln_1's input gradient.
  {
    tensor datt({n, d}, memory_category::workspace, m_ledger, uninitialized);
    linear_backward_input(s.dr1.span(), m_proj_w.value.span(), datt.span(), {n, d, d}, false, ex);
    s.dqkv = act({n, 3 * d});
    attention_backward(datt.span(), s.qkv.span(), s.probs.span(), s.dqkv.span(), {s.batch, s.seq, heads, d}, ex);
  }
  s.qkv = tensor{};
  s.probs = tensor{};
  s.da1 = act({n, d});
  linear_backward_input(s.dqkv.span(), m_attn_w.value.span(), s.da1.span(), {n, d, 3 * d}, false, ex);
  tensor dx = detail::copy_of(s.dr1, memory_category::activations, m_ledger);
  layernorm_backward_input(s.da1.span(), s.x.span(), s.mean1.span(), s.rstd1.span(), m_ln1_w.value.span(), dx.span(),
                           {n, d}, true, ex);
  s.dy = std::move(dy);
  s.phase = 1;
  return dx;
}

void block_layer::backward_weight(layer_state& state, executor* ex) {
  auto& s = own(state, 1, *this);
  const std::size_t n = s.batch * s.seq;
  const auto d = static_cast<std::size_t>(m_config.embd);
  linear_backward_weight(s.g.span(), s.dy.span(), m_mproj_w.grad.span(), m_mproj_b.grad.span(), {n, 4 * d, d}, ex);
  linear_backward_weight(s.a2.span(), s.dh.span(), m_fc_w.grad.span(), m_fc_b.grad.span(), {n, d, 4 * d}, ex);
  layernorm_backward_weight(s.da2.span(), s.r1.span(), s.mean2.span(), s.rstd2.span(), m_ln2_w.grad.span(),
                            m_ln2_b.grad.span(), {n, d}, ex);
  linear_backward_weight(s.att.span(), s.dr1.span(), m_proj_w.grad.span(), m_proj_b.grad.span(), {n, d, d}, ex);
  linear_backward_weight(s.a1.span(), s.dqkv.span(), m_attn_w.grad.span(), m_attn_b.grad.span(), {n, d, 3 * d}, ex);
  layernorm_backward_weight(s.da1.span(), s.x.span(), s.mean1.span(), s.rstd1.span(), m_ln1_w.grad.span(),
                            m_ln1_b.grad.span(), {n, d}, ex);
  for (tensor* t : {&s.x, &s.mean1, &s.rstd1, &s.a1, &s.att, &s.r1, &s.mean2, &s.rstd2, &s.a2, &s.g, &s.dy, &s.dh,
                    &s.da2, &s.dr1, &s.dqkv, &s.da1}) {
    *t = tensor{};
  }
  s.phase = 2;
}

std::vector<gemm_shape> block_layer::gemms(std::size_t batch, std::size_t seq) const {
  const std::size_t n = batch * seq;
  const auto d = static_cast<std::size_t>(m_config.embd);
  const std::size_t hd = m_config.head_dim();
  const std::size_t pairs = batch * static_cast<std::size_t>(m_config.heads);
  const std::string p = m_name + ".";
  const std::size_t ld = 3 * d;
  auto linear = [&](const std::string& what, char pass, bool ta, bool tb, std::size_t m, std::size_t nn,
                    std::size_t k) {
    // F pre-loads the bias into c, W accumulates into the gradient; B overwrites (its accumulation is elsewhere).
    return gemm_shape{p + what + " " + pass, pass, ta, tb, m, nn, k, 1, pass != 'B', 0, 0, 0};
  };
  auto attention = [&](std::string what, bool ta, bool tb, std::size_t m, std::size_t nn, std::size_t k,
                       std::size_t lda, std::size_t ldb, std::size_t ldc) {
    return gemm_shape{p + "attn " + what, what.back(), ta, tb, m, nn, k, pairs, false, lda, ldb, ldc};
  };
  return {
      linear("attn.c_attn", 'F', false, false, n, 3 * d, d),
      attention("q·kᵀ F", false, true, seq, seq, hd, ld, ld, seq),
      attention("p·v F", false, false, seq, hd, seq, seq, ld, d),
      linear("attn.c_proj", 'F', false, false, n, d, d),
      linear("mlp.c_fc", 'F', false, false, n, 4 * d, d),
      linear("mlp.c_proj", 'F', false, false, n, d, 4 * d),
      linear("mlp.c_proj", 'B', false, true, n, 4 * d, d),
      linear("mlp.c_fc", 'B', false, true, n, d, 4 * d),
      linear("attn.c_proj", 'B', false, true, n, d, d),
      attention("dv B", true, false, seq, hd, seq, seq, d, ld),
      attention("dp B", false, true, seq, seq, hd, d, ld, seq),
      attention("dq B", false, false, seq, hd, seq, seq, ld, ld),
      attention("dk B", true, false, seq, hd, seq, seq, ld, ld),
      linear("attn.c_attn", 'B', false, true, n, d, 3 * d),
      linear("mlp.c_proj", 'W', true, false, 4 * d, d, n),
      linear("mlp.c_fc", 'W', true, false, d, 4 * d, n),
      linear("attn.c_proj", 'W', true, false, d, d, n),
      linear("attn.c_attn", 'W', true, false, d, 3 * d, n),
  };
}

}  // namespace taskpipe::nn
