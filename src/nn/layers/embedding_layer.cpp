#include "taskpipe/nn/embedding_layer.hpp"

#include <vector>

#include "../init.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/embedding.hpp"

namespace taskpipe::nn {
namespace {

struct embedding_state final : layer_state {
  const layer* owner = nullptr;
  std::vector<std::int32_t> tokens;  // 4 bytes a token: not counted in the ledger
  std::size_t batch = 0;
  std::size_t seq = 0;
  int phase = 0;  // 0 after F, 1 after B, 2 spent
  tensor dy;
};

embedding_state& own(layer_state& s, int phase, const layer& l) {
  auto* e = dynamic_cast<embedding_state*>(&s);
  if (e == nullptr || e->owner != &l || e->phase != phase) {
    throw invalid_argument(l.name() + ": the state is not this layer's, or is in the wrong phase for this call");
  }
  return *e;
}

}  // namespace

embedding_layer::embedding_layer(const gpt2_config& c, std::uint64_t seed, memory_ledger* ledger)
    : m_config((c.validate(), c)), m_ledger(ledger) {
  const auto v = static_cast<std::size_t>(c.vocab);
  const auto t = static_cast<std::size_t>(c.context);
  const auto d = static_cast<std::size_t>(c.embd);
  m_wte = detail::make_parameter("wte.weight", {v, d}, true, ledger);
  m_wpe = detail::make_parameter("wpe.weight", {t, d}, true, ledger);
  detail::init_normal(m_wte, seed, 0.02);
  detail::init_normal(m_wpe, seed, 0.02);
}

layer::forward_result embedding_layer::forward(tensor /*x*/, const micro_batch& mb, executor* ex) {
  const embedding_dims d{mb.batch, mb.seq, static_cast<std::size_t>(m_config.vocab),
                         static_cast<std::size_t>(m_config.context), static_cast<std::size_t>(m_config.embd)};
  if (mb.seq == 0 || mb.batch == 0) {
    throw invalid_argument(m_name + ": batch and seq must be at least 1 (got " + std::to_string(mb.batch) + " x " +
                           std::to_string(mb.seq) + ")");
  }
  tensor y({mb.rows(), d.c}, memory_category::activations, m_ledger, uninitialized);
  embedding_forward(mb.tokens, m_wte.value.span(), m_wpe.value.span(), y.span(), d, ex);
  forward_result r{std::move(y), nullptr};
  if (mb.keep_state) {
    auto s = std::make_unique<embedding_state>();
    s->owner = this;
    s->tokens.assign(mb.tokens.begin(), mb.tokens.end());
    s->batch = mb.batch;
    s->seq = mb.seq;
    r.state = std::move(s);
  }
  return r;
}

tensor embedding_layer::backward_input(layer_state& s, tensor dy, executor* /*ex*/) {
  auto& e = own(s, 0, *this);
  detail::expect_tensor(dy, e.tokens.size() * static_cast<std::size_t>(m_config.embd), m_name, "dy");
  e.dy = std::move(dy);
  e.phase = 1;
  return {};
}

void embedding_layer::backward_weight(layer_state& s, executor* ex) {
  auto& e = own(s, 1, *this);
  const embedding_dims d{e.batch, e.seq, static_cast<std::size_t>(m_config.vocab),
                         static_cast<std::size_t>(m_config.context), static_cast<std::size_t>(m_config.embd)};
  embedding_backward_weight(e.tokens, e.dy.span(), m_wte.grad.span(), m_wpe.grad.span(), d, ex);
  e.dy = tensor{};
  e.tokens = {};
  e.phase = 2;
}

std::vector<gemm_shape> embedding_layer::gemms(std::size_t /*batch*/, std::size_t /*seq*/) const { return {}; }

}  // namespace taskpipe::nn
