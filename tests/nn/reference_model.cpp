#include "reference_model.hpp"

#include <map>
#include <string>

#include "taskpipe/nn/reference_ops.hpp"

namespace taskpipe::nn::test {
namespace {

using vec = std::vector<double>;

struct block_saved {
  vec x, mean1, rstd1, a1, qkv, probs, att, r1, mean2, rstd2, a2, h, g;
};

vec add(const vec& a, const vec& b) {
  vec c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    c[i] = a[i] + b[i];
  }
  return c;
}

}  // namespace

reference_result reference_forward_backward(gpt2& model, std::span<const std::int32_t> tokens,
                                            std::span<const std::int32_t> targets, std::size_t batch, std::size_t seq) {
  const gpt2_config& c = model.config();
  const std::vector<parameter*> params = model.parameters();
  std::map<std::string, vec> p;
  std::map<std::string, vec> g;
  for (parameter* q : params) {
    p[q->name] = vec(q->value.span().begin(), q->value.span().end());
    g[q->name] = vec(q->value.size(), 0.0);
  }
  const std::size_t n = batch * seq;
  const auto d = static_cast<std::size_t>(c.embd);
  const auto v = static_cast<std::size_t>(c.vocab);
  const auto heads = static_cast<std::size_t>(c.heads);
  const embedding_dims ed{batch, seq, v, static_cast<std::size_t>(c.context), d};

  vec x(n * d);
  ref::embedding_forward(tokens, p["wte.weight"], p["wpe.weight"], x, ed);
  std::vector<block_saved> saved(static_cast<std::size_t>(c.layers));
  for (std::size_t l = 0; l < saved.size(); ++l) {
    const std::string pre = "h." + std::to_string(l) + ".";
    block_saved& s = saved[l];
    s.x = x;
    s.mean1.resize(n), s.rstd1.resize(n), s.a1.resize(n * d);
    ref::layernorm_forward(s.x, p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], s.a1, s.mean1, s.rstd1, {n, d});
    s.qkv.resize(n * 3 * d);
    ref::linear_forward(s.a1, p[pre + "attn.c_attn.weight"], p[pre + "attn.c_attn.bias"], s.qkv, {n, d, 3 * d});
    s.att.resize(n * d), s.probs.resize(batch * heads * seq * seq);
    ref::attention_forward(s.qkv, s.att, s.probs, {batch, seq, heads, d});
    vec proj(n * d);
    ref::linear_forward(s.att, p[pre + "attn.c_proj.weight"], p[pre + "attn.c_proj.bias"], proj, {n, d, d});
    s.r1 = add(s.x, proj);
    s.mean2.resize(n), s.rstd2.resize(n), s.a2.resize(n * d);
    ref::layernorm_forward(s.r1, p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], s.a2, s.mean2, s.rstd2, {n, d});
    s.h.resize(n * 4 * d), s.g.resize(n * 4 * d);
    ref::linear_forward(s.a2, p[pre + "mlp.c_fc.weight"], p[pre + "mlp.c_fc.bias"], s.h, {n, d, 4 * d});
    ref::gelu_forward(s.h, s.g);
    vec m(n * d);
    ref::linear_forward(s.g, p[pre + "mlp.c_proj.weight"], p[pre + "mlp.c_proj.bias"], m, {n, 4 * d, d});
    x = add(s.r1, m);
  }
  vec mean(n), rstd(n), a(n * d), logits(n * v);
  ref::layernorm_forward(x, p["ln_f.weight"], p["ln_f.bias"], a, mean, rstd, {n, d});
  ref::tied_head_forward(a, p["wte.weight"], logits, {n, d, v});
  reference_result out;
  out.loss = ref::softmax_cross_entropy(logits, targets, n, v, 1.0 / static_cast<double>(n)) / static_cast<double>(n);

  // Backward: logits now hold the gradient.
  vec da(n * d), dx(n * d);
  ref::tied_head_backward_weight(a, logits, g["wte.weight"], {n, d, v});
  ref::tied_head_backward_input(logits, p["wte.weight"], da, {n, d, v});
  ref::layernorm_backward_weight(da, x, mean, rstd, g["ln_f.weight"], g["ln_f.bias"], {n, d});
  ref::layernorm_backward_input(da, x, mean, rstd, p["ln_f.weight"], dx, {n, d});
  for (std::size_t l = saved.size(); l-- > 0;) {
    const std::string pre = "h." + std::to_string(l) + ".";
    block_saved& s = saved[l];
    const vec dy = dx;
    vec dg(n * 4 * d), dh(n * 4 * d), da2(n * d), dln2(n * d), datt(n * d), dqkv(n * 3 * d), da1(n * d), dln1(n * d);
    ref::linear_backward_weight(s.g, dy, g[pre + "mlp.c_proj.weight"], g[pre + "mlp.c_proj.bias"], {n, 4 * d, d});
    ref::linear_backward_input(dy, p[pre + "mlp.c_proj.weight"], dg, {n, 4 * d, d});
    ref::gelu_backward(dg, s.h, dh);
    ref::linear_backward_weight(s.a2, dh, g[pre + "mlp.c_fc.weight"], g[pre + "mlp.c_fc.bias"], {n, d, 4 * d});
    ref::linear_backward_input(dh, p[pre + "mlp.c_fc.weight"], da2, {n, d, 4 * d});
    ref::layernorm_backward_weight(da2, s.r1, s.mean2, s.rstd2, g[pre + "ln_2.weight"], g[pre + "ln_2.bias"], {n, d});
    ref::layernorm_backward_input(da2, s.r1, s.mean2, s.rstd2, p[pre + "ln_2.weight"], dln2, {n, d});
    const vec dr1 = add(dy, dln2);
    ref::linear_backward_weight(s.att, dr1, g[pre + "attn.c_proj.weight"], g[pre + "attn.c_proj.bias"], {n, d, d});
    ref::linear_backward_input(dr1, p[pre + "attn.c_proj.weight"], datt, {n, d, d});
    ref::attention_backward(datt, s.qkv, s.probs, dqkv, {batch, seq, heads, d});
    ref::linear_backward_weight(s.a1, dqkv, g[pre + "attn.c_attn.weight"], g[pre + "attn.c_attn.bias"], {n, d, 3 * d});
    ref::linear_backward_input(dqkv, p[pre + "attn.c_attn.weight"], da1, {n, d, 3 * d});
    ref::layernorm_backward_weight(da1, s.x, s.mean1, s.rstd1, g[pre + "ln_1.weight"], g[pre + "ln_1.bias"], {n, d});
    ref::layernorm_backward_input(da1, s.x, s.mean1, s.rstd1, p[pre + "ln_1.weight"], dln1, {n, d});
    dx = add(dr1, dln1);
  }
  ref::embedding_backward_weight(tokens, dx, g["wte.weight"], g["wpe.weight"], ed);
  for (parameter* q : params) {
    out.grads.push_back(g[q->name]);
  }
  return out;
}

}  // namespace taskpipe::nn::test
