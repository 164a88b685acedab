#include "taskpipe/nn/head_layer.hpp"

#include <cmath>

#include "../init.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/cross_entropy.hpp"
#include "taskpipe/nn/layernorm.hpp"
#include "taskpipe/nn/linear.hpp"

namespace taskpipe::nn {
namespace {

struct head_state final : layer_state {
  const layer* owner = nullptr;
  std::size_t rows = 0;
  int phase = 0;  // 0 after F, 1 after B, 2 spent
  tensor x, mean, rstd, a, dlogits;
  tensor da;  // left by B for ln_f's W
};

head_state& own(layer_state& s, int phase, const layer& l) {
  auto* h = dynamic_cast<head_state*>(&s);
  if (h == nullptr || h->owner != &l || h->phase != phase) {
    throw invalid_argument(l.name() + ": the state is not this layer's, or is in the wrong phase for this call");
  }
  return *h;
}

}  // namespace

head_layer::head_layer(const gpt2_config& c, std::uint64_t seed, parameter* tied_wte, memory_ledger* ledger)
    : m_config((c.validate(), c)), m_ledger(ledger), m_wte(tied_wte) {
  const auto d = static_cast<std::size_t>(c.embd);
  const auto v = static_cast<std::size_t>(c.vocab);
  m_lnf_w = detail::make_parameter("ln_f.weight", {d}, false, ledger);
  m_lnf_b = detail::make_parameter("ln_f.bias", {d}, false, ledger);
  detail::init_constant(m_lnf_w, 1.0F);
  if (m_wte == nullptr) {
    m_own_wte = detail::make_parameter("wte.weight", {v, d}, true, ledger);
    detail::init_normal(*m_own_wte, seed, 0.02);
    m_wte = &*m_own_wte;
  } else if (m_wte->value.shape() != std::vector<std::size_t>{v, d}) {
    throw invalid_argument("head: the tied wte is " + m_wte->value.shape_string() + ", expected [" + std::to_string(v) +
                           ", " + std::to_string(d) + "]");
  }
}

std::vector<parameter*> head_layer::parameters() {
  if (m_own_wte) {
    return {&*m_own_wte, &m_lnf_w, &m_lnf_b};
  }
  return {&m_lnf_w, &m_lnf_b};
}

layer::forward_result head_layer::forward(tensor x, const micro_batch& mb, executor* ex) {
  const std::size_t n = mb.rows();
  const auto d = static_cast<std::size_t>(m_config.embd);
  const auto v = static_cast<std::size_t>(m_config.vocab);
  detail::expect_tensor(x, n * d, m_name, "x");
  if (mb.targets.size() != n) {
    throw invalid_argument(m_name + ": " + std::to_string(mb.targets.size()) + " targets for " + std::to_string(n) +
                           " rows");
  }
  if (!(mb.loss_scale > 0.0F) || !std::isfinite(mb.loss_scale)) {
    throw invalid_argument(m_name + ": loss_scale " + std::to_string(mb.loss_scale) + " must be positive and finite");
  }
  auto act = [&](std::vector<std::size_t> shape) {
    return tensor(std::move(shape), memory_category::activations, m_ledger, uninitialized);
  };
  tensor mean = act({n}), rstd = act({n}), a = act({n, d}), logits = act({n, v});
  layernorm_forward(x.span(), m_lnf_w.value.span(), m_lnf_b.value.span(), a.span(), mean.span(), rstd.span(), {n, d},
                    ex);
  tied_head_forward(a.span(), m_wte->value.span(), logits.span(), {n, d, v}, ex);
  const double sum = softmax_cross_entropy(logits.span(), mb.targets, n, v, mb.loss_scale, ex);
  tensor y({1}, memory_category::activations, m_ledger);
  y[0] = static_cast<float>(sum * static_cast<double>(mb.loss_scale));
  forward_result r{std::move(y), nullptr};
  if (mb.keep_state) {
    auto s = std::make_unique<head_state>();
    s->owner = this;
    s->rows = n;
    s->x = std::move(x);
    s->mean = std::move(mean);
    s->rstd = std::move(rstd);
    s->a = std::move(a);
    s->dlogits = std::move(logits);
    r.state = std::move(s);
  }
  return r;
}

tensor head_layer::backward_input(layer_state& state, tensor /*dy*/, executor* ex) {
  auto& s = own(state, 0, *this);
  const auto d = static_cast<std::size_t>(m_config.embd);
  const auto v = static_cast<std::size_t>(m_config.vocab);
  s.da = tensor({s.rows, d}, memory_category::activations, m_ledger, uninitialized);
  tied_head_backward_input(s.dlogits.span(), m_wte->value.span(), s.da.span(), {s.rows, d, v}, ex);
  tensor dx({s.rows, d}, memory_category::activations, m_ledger, uninitialized);
  layernorm_backward_input(s.da.span(), s.x.span(), s.mean.span(), s.rstd.span(), m_lnf_w.value.span(), dx.span(),
                           {s.rows, d}, false, ex);
  s.phase = 1;
  return dx;
}

void head_layer::backward_weight(layer_state& state, executor* ex) {
  auto& s = own(state, 1, *this);
  const auto d = static_cast<std::size_t>(m_config.embd);
  const auto v = static_cast<std::size_t>(m_config.vocab);
  tied_head_backward_weight(s.a.span(), s.dlogits.span(), m_wte->grad.span(), {s.rows, d, v}, ex);
  layernorm_backward_weight(s.da.span(), s.x.span(), s.mean.span(), s.rstd.span(), m_lnf_w.grad.span(),
                            m_lnf_b.grad.span(), {s.rows, d}, ex);
  for (tensor* t : {&s.x, &s.mean, &s.rstd, &s.a, &s.dlogits, &s.da}) {
    *t = tensor{};
  }
  s.phase = 2;
}

tensor head_layer::logits(const tensor& x, executor* ex) {
  const auto d = static_cast<std::size_t>(m_config.embd);
  const auto v = static_cast<std::size_t>(m_config.vocab);
  const std::size_t n = x.size() / d;
  detail::expect_tensor(x, n * d, m_name, "x");
  tensor mean({n}, memory_category::workspace, m_ledger);
  tensor rstd({n}, memory_category::workspace, m_ledger);
  tensor a({n, d}, memory_category::workspace, m_ledger);
  tensor out({n, v}, memory_category::activations, m_ledger);
  layernorm_forward(x.span(), m_lnf_w.value.span(), m_lnf_b.value.span(), a.span(), mean.span(), rstd.span(), {n, d},
                    ex);
  tied_head_forward(a.span(), m_wte->value.span(), out.span(), {n, d, v}, ex);
  return out;
}

std::vector<gemm_shape> head_layer::gemms(std::size_t batch, std::size_t seq) const {
  const std::size_t n = batch * seq;
  const auto d = static_cast<std::size_t>(m_config.embd);
  const auto v = static_cast<std::size_t>(m_config.vocab);
  return {{"lm_head F", 'F', false, true, n, v, d, 1, false, 0, 0, 0},
          {"lm_head B", 'B', false, false, n, d, v, 1, false, 0, 0, 0},
          {"lm_head W", 'W', true, false, v, d, n, 1, true, 0, 0, 0}};
}

}  // namespace taskpipe::nn
