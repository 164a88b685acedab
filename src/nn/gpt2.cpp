#include "taskpipe/nn/gpt2.hpp"

#include <algorithm>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/non_finite_error.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace taskpipe::nn {
namespace {

void check_finite(const tensor& y, const std::string& layer) {
  if (!all_finite(y.span())) {
    throw non_finite_error(layer);
  }
}

}  // namespace

layer_flops layer::flops(std::size_t batch, std::size_t seq) const {
  layer_flops f;
  for (const gemm_shape& g : gemms(batch, seq)) {
    (g.pass == 'F' ? f.forward : g.pass == 'B' ? f.backward_input : f.backward_weight) += g.flops();
  }
  return f;
}

std::unique_ptr<layer> make_layer(const gpt2_config& c, std::size_t index, std::uint64_t seed, memory_ledger* ledger) {
  c.validate();
  const auto blocks = static_cast<std::size_t>(c.layers);
  if (index == 0) {
    return std::make_unique<embedding_layer>(c, seed, ledger);
  }
  if (index <= blocks) {
    return std::make_unique<block_layer>(c, static_cast<int>(index - 1), seed, ledger);
  }
  if (index == blocks + 1) {
    return std::make_unique<head_layer>(c, seed, nullptr, ledger);
  }
  throw invalid_argument("layer index " + std::to_string(index) + " is outside [0, " + std::to_string(blocks + 1) +
                         "] (embedding, " + std::to_string(blocks) + " blocks, head)");
}

gpt2::gpt2(const gpt2_config& c, std::uint64_t seed, memory_ledger* ledger)
    : m_config((c.validate(), c)), m_ledger(ledger) {
  m_embedding = std::make_unique<embedding_layer>(c, seed, ledger);
  for (int i = 0; i < c.layers; ++i) {
    m_blocks.push_back(std::make_unique<block_layer>(c, i, seed, ledger));
  }
  m_head = std::make_unique<head_layer>(c, seed, &m_embedding->wte(), ledger);
}

std::vector<parameter*> gpt2::parameters() {
  std::vector<parameter*> all;
  for (layer* l : layers()) {
    for (parameter* p : l->parameters()) {
      all.push_back(p);
    }
  }
  return all;
}

std::vector<layer*> gpt2::layers() {
  std::vector<layer*> all{m_embedding.get()};
  for (auto& b : m_blocks) {
    all.push_back(b.get());
  }
  all.push_back(m_head.get());
  return all;
}

void gpt2::zero_grad() {
  for (layer* l : layers()) {
    l->zero_grad();
  }
}

float gpt2::forward_backward(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets, int batch,
                             int seq, executor* ex) {
  return run(tokens, targets, batch, seq, true, ex);
}

float gpt2::loss(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets, int batch, int seq,
                 executor* ex) {
  return run(tokens, targets, batch, seq, false, ex);
}

float gpt2::run(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets, int batch, int seq,
                bool backward, executor* ex) {
  if (batch < 1) {
    throw invalid_argument("batch " + std::to_string(batch) + " must be at least 1");
  }
  if (seq < 1 || seq > m_config.context) {
    throw invalid_argument("sequence length " + std::to_string(seq) + " is outside [1, " +
                           std::to_string(m_config.context) + "] (the model's context)");
  }
  const auto rows = static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq);
  if (tokens.size() != rows || targets.size() != rows) {
    throw invalid_argument(std::to_string(tokens.size()) + " tokens and " + std::to_string(targets.size()) +
                           " targets for a batch of " + std::to_string(batch) + " x " + std::to_string(seq) +
                           " (expected " + std::to_string(rows) + " each)");
  }
  const micro_batch mb{tokens,
                       targets,
                       static_cast<std::size_t>(batch),
                       static_cast<std::size_t>(seq),
                       static_cast<float>(1.0 / static_cast<double>(rows)),
                       backward};
  if (ex != nullptr && !ex->this_worker_index()) {
    return ex->async([&] { return run_here(mb, backward, ex); }).get();
  }
  return run_here(mb, backward, ex);
}

float gpt2::run_here(const micro_batch& mb, bool backward, executor* ex) {
  const std::vector<layer*> all = layers();
  std::vector<std::unique_ptr<layer_state>> states(all.size());
  if (backward) {
    zero_grad();
  }
  tensor x;
  for (std::size_t i = 0; i < all.size(); ++i) {
    auto r = all[i]->forward(std::move(x), mb, ex);
    check_finite(r.y, all[i]->name());
    x = std::move(r.y);
    states[i] = std::move(r.state);
  }
  if (x.size() != 1) {  // the head's output is its loss share; anything else means the layer list is malformed
    throw error("gpt2: the last layer returned " + std::to_string(x.size()) + " values, expected the loss");
  }
  const float loss = x[0];
  if (backward) {
    tensor dy;
    for (std::size_t i = all.size(); i-- > 0;) {
      dy = all[i]->backward(*states[i], std::move(dy), ex);
      states[i].reset();
    }
  }
  return loss;
}

std::vector<float> gpt2::next_token_logits(std::span<const std::int32_t> tokens, executor* ex) {
  if (tokens.empty() || tokens.size() > static_cast<std::size_t>(m_config.context)) {
    throw invalid_argument("a prompt of " + std::to_string(tokens.size()) + " tokens is outside [1, " +
                           std::to_string(m_config.context) + "] (the model's context)");
  }
  auto body = [&] {
    const micro_batch mb{tokens, {}, 1, tokens.size(), 1.0F, false};
    tensor x;
    std::vector<layer*> all = layers();
    for (std::size_t i = 0; i + 1 < all.size(); ++i) {
      auto r = all[i]->forward(std::move(x), mb, ex);
      check_finite(r.y, all[i]->name());
      x = std::move(r.y);
    }
    const auto d = static_cast<std::size_t>(m_config.embd);
    tensor last({1, d}, memory_category::workspace, m_ledger);
    std::copy_n(x.data() + (tokens.size() - 1) * d, d, last.data());
    tensor logits = m_head->logits(last, ex);
    check_finite(logits, m_head->name());
    return std::vector<float>(logits.span().begin(), logits.span().end());
  };
  if (ex != nullptr && !ex->this_worker_index()) {
    return ex->async(body).get();
  }
  return body();
}

std::vector<gemm_shape> gpt2::gemms(std::size_t batch, std::size_t seq) const {
  std::vector<gemm_shape> all;
  auto add = [&](const layer& l) {
    for (gemm_shape& g : l.gemms(batch, seq)) {
      all.push_back(std::move(g));
    }
  };
  add(*m_embedding);
  for (const auto& b : m_blocks) {
    add(*b);
  }
  add(*m_head);
  return all;
}

}  // namespace taskpipe::nn
