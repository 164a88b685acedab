// The layer protocol as a pipeline drives it: several micro-batches in flight, B and W apart and out of order, the
// head on its own wte copy; and the memory accounting of a step.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "nn_test_util.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace nn = taskpipe::nn;
using nn::test::all_close;
using nn::test::to_double;

namespace {

const nn::gpt2_config cfg{.vocab = 13, .context = 8, .embd = 16, .layers = 2, .heads = 4};

}  // namespace

TEST(layers, micro_batches_in_flight_with_w_deferred_and_reordered_give_the_whole_batch_gradients) {
  constexpr std::size_t batch = 4;
  constexpr std::size_t seq = 6;
  const auto tokens = nn::test::random_ids(batch * seq, 13, 1);
  const auto targets = nn::test::random_ids(batch * seq, 13, 2);
  nn::gpt2 whole(cfg, 9);
  const float whole_loss = whole.forward_backward(tokens, targets, batch, seq);

  // The same model as separate layers (a pipeline's stages), the head on its own wte copy.
  std::vector<std::unique_ptr<nn::layer>> layers;
  for (std::size_t i = 0; i < 4; ++i) {
    layers.push_back(nn::make_layer(cfg, i, 9));
  }
  for (auto& l : layers) {
    l->zero_grad();
  }
  constexpr std::size_t micro = 2;
  constexpr std::size_t rows = batch / micro * seq;
  std::vector<nn::micro_batch> mbs;
  for (std::size_t m = 0; m < micro; ++m) {
    mbs.push_back({std::span(tokens).subspan(m * rows, rows), std::span(targets).subspan(m * rows, rows), batch / micro,
                   seq, 1.0F / static_cast<float>(batch * seq), true});
  }
  // F of both micro-batches, then B of micro-batch 1 before 0, then the W passes last, layer by layer in an odd order.
  std::vector<std::vector<std::unique_ptr<nn::layer_state>>> states(micro);
  float loss = 0.0F;
  for (std::size_t m = 0; m < micro; ++m) {
    nn::tensor x;
    for (auto& l : layers) {
      auto r = l->forward(std::move(x), mbs[m], nullptr);
      x = std::move(r.y);
      states[m].push_back(std::move(r.state));
    }
    loss += x[0];
  }
  for (std::size_t m = micro; m-- > 0;) {
    nn::tensor dy;
    for (std::size_t i = layers.size(); i-- > 0;) {
      dy = layers[i]->backward_input(*states[m][i], std::move(dy), nullptr);
    }
    EXPECT_TRUE(dy.empty());
  }
  for (const std::size_t i : {std::size_t{2}, std::size_t{0}, std::size_t{3}, std::size_t{1}}) {
    layers[i]->backward_weight(*states[0][i], nullptr);
    layers[i]->backward_weight(*states[1][i], nullptr);
  }
  EXPECT_NEAR(loss, whole_loss, 1e-6 * whole_loss);
  // The tied gradient: the embedding's wte gradient plus the head copy's equals the single model's.
  auto* head = dynamic_cast<nn::head_layer*>(layers[3].get());
  auto* emb = dynamic_cast<nn::embedding_layer*>(layers[0].get());
  std::vector<float> wte_sum(emb->wte().grad.size());
  for (std::size_t i = 0; i < wte_sum.size(); ++i) {
    wte_sum[i] = emb->wte().grad[i] + head->wte().grad[i];
  }
  EXPECT_TRUE(all_close(wte_sum, to_double(whole.embedding().wte().grad.span()), 1e-7, 1e-5));
  std::vector<nn::parameter*> mine;
  for (auto& l : layers) {
    for (nn::parameter* p : l->parameters()) {
      if (p != &head->wte() && p != &emb->wte()) {
        mine.push_back(p);
      }
    }
  }
  std::vector<nn::parameter*> want;
  for (nn::parameter* p : whole.parameters()) {
    if (p->name != "wte.weight") {
      want.push_back(p);
    }
  }
  ASSERT_EQ(mine.size(), want.size());
  for (std::size_t i = 0; i < mine.size(); ++i) {
    ASSERT_EQ(mine[i]->name, want[i]->name);
    EXPECT_TRUE(all_close(mine[i]->grad.span(), to_double(want[i]->grad.span()), 1e-7, 1e-5)) << mine[i]->name;
  }
}

TEST(layers, refuse_a_state_in_the_wrong_phase_or_from_another_layer) {
  auto a = nn::make_layer(cfg, 1, 1);
  auto b = nn::make_layer(cfg, 2, 1);
  const auto tokens = nn::test::random_ids(6, 13, 1);
  const nn::micro_batch mb{tokens, tokens, 1, 6, 1.0F / 6.0F, true};
  auto r = a->forward(nn::tensor({6, 16}, nn::memory_category::activations), mb, nullptr);
  EXPECT_THROW(a->backward_weight(*r.state, nullptr), taskpipe::invalid_argument);  // W before B
  EXPECT_THROW((void)b->backward_input(*r.state, nn::tensor({6, 16}, nn::memory_category::activations), nullptr),
               taskpipe::invalid_argument);
  (void)a->backward(*r.state, nn::tensor({6, 16}, nn::memory_category::activations), nullptr);
  EXPECT_THROW(a->backward_weight(*r.state, nullptr), taskpipe::invalid_argument);  // spent
  EXPECT_THROW((void)a->forward(nn::tensor({5, 16}, nn::memory_category::activations), mb, nullptr),
               taskpipe::invalid_argument);
}

TEST(gpt2, a_step_on_an_executor_matches_the_serial_step) {
  taskpipe::executor ex{{.workers = 3, .spin_before_sleep = std::chrono::microseconds{0}}};
  const nn::gpt2_config c{.vocab = 64, .context = 32, .embd = 64, .layers = 2, .heads = 4};
  nn::gpt2 serial(c, 3);
  nn::gpt2 parallel(c, 3);
  const auto tokens = nn::test::random_ids(4 * 32, 64, 1);
  const auto targets = nn::test::random_ids(4 * 32, 64, 2);
  const float l1 = serial.forward_backward(tokens, targets, 4, 32);
  const float l2 = parallel.forward_backward(tokens, targets, 4, 32, &ex);  // from outside the executor
  const float l3 = ex.async([&] { return parallel.forward_backward(tokens, targets, 4, 32, &ex); }).get();
  EXPECT_NEAR(l1, l2, 1e-6 * l1);
  EXPECT_EQ(l2, l3);
  const auto ps = serial.parameters();
  const auto pp = parallel.parameters();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    EXPECT_TRUE(all_close(pp[i]->grad.span(), to_double(ps[i]->grad.span()), 1e-7, 1e-5)) << ps[i]->name;
  }
  const auto logits1 = serial.next_token_logits(std::span(tokens).first(10));
  const auto logits2 = parallel.next_token_logits(std::span(tokens).first(10), &ex);
  ASSERT_EQ(logits1.size(), 64U);
  EXPECT_TRUE(all_close(logits2, to_double(logits1), 1e-6, 1e-5));
}

TEST(gpt2, memory_is_accounted_by_category_and_the_activations_are_freed_after_a_step) {
  nn::memory_ledger ledger;
  const nn::gpt2_config c{.vocab = 32, .context = 16, .embd = 32, .layers = 3, .heads = 4};
  nn::gpt2 m(c, 1, &ledger);
  const std::size_t param_bytes = c.parameter_count() * sizeof(float);
  EXPECT_EQ(ledger.current(nn::memory_category::parameters), param_bytes);
  EXPECT_EQ(ledger.current(nn::memory_category::gradients), param_bytes);
  const auto tokens = nn::test::random_ids(2 * 16, 32, 1);
  (void)m.forward_backward(tokens, tokens, 2, 16);
  EXPECT_EQ(ledger.current(nn::memory_category::activations), 0U);
  EXPECT_EQ(ledger.current(nn::memory_category::workspace), 0U);
  // What F keeps: a block holds about 20 N·d floats (with the probabilities) until its backward; all three blocks at
  // once at the peak, plus the head's logits.
  const std::size_t n = 32;
  const std::size_t d = 32;
  const std::size_t per_block = (n * (1 + 1 + 3 + 1 + 1 + 1 + 4 + 4) * d + 4 * n + 2 * 4 * 16 * 16) * sizeof(float);
  EXPECT_GE(ledger.peak(nn::memory_category::activations), 3 * per_block);
  EXPECT_LE(ledger.peak(nn::memory_category::activations), 5 * per_block);
  EXPECT_GT(ledger.peak(nn::memory_category::workspace), 0U);
  ledger.reset_peaks();
  (void)m.loss(tokens, tokens, 2, 16);
  EXPECT_LT(ledger.peak(nn::memory_category::activations), 2 * per_block);  // forward only keeps nothing
}
