// The parallel strategies train to the one-worker numbers: every schedule kind, P in {2, 4}, D in {1, 2},
// M in {P, 2P}, two AdamW steps with clipping on the same global batch; and memory per worker.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>

#include "taskpipe/nn/adamw.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/pp/generators.hpp"
#include "taskpipe/pp/simulate.hpp"
#include "taskpipe/train/layer_costs.hpp"
#include "taskpipe/train/parallel_model.hpp"
#include "taskpipe/train/partition.hpp"

namespace {

using namespace taskpipe;

nn::gpt2_config tiny() {
  nn::gpt2_config c;
  c.vocab = 64;
  c.context = 8;
  c.embd = 32;
  c.layers = 6;
  c.heads = 2;
  return c;
}

constexpr int batch = 16;
constexpr int seq = 8;
constexpr int steps = 2;
constexpr std::uint64_t seed = 7;
constexpr double lr = 1e-2;
constexpr double clip = 0.5;  // small enough that clipping acts, so the global norm matters

struct data {
  std::vector<std::int32_t> tokens, targets;
  data() {
    std::uint32_t x = 12345;
    for (int i = 0; i < batch * seq; ++i) {
      x = x * 1664525U + 1013904223U;
      tokens.push_back(static_cast<std::int32_t>((x >> 16) % 64U));
      x = x * 1664525U + 1013904223U;
      targets.push_back(static_cast<std::int32_t>((x >> 16) % 64U));
    }
  }
};

std::map<std::string, std::vector<float>> one_worker(std::vector<float>& losses) {
  data d;
  nn::gpt2 model(tiny(), seed);
  nn::adamw opt(model.parameters(), {});
  for (int s = 0; s < steps; ++s) {
    losses.push_back(model.forward_backward(d.tokens, d.targets, batch, seq));
    nn::clip_grad_norm(model.parameters(), clip);
    opt.step(lr);
  }
  std::map<std::string, std::vector<float>> out;
  for (nn::parameter* p : model.parameters()) {
    out[p->name].assign(p->value.span().begin(), p->value.span().end());
  }
  return out;
}

const std::map<std::string, std::vector<float>>& reference(std::vector<float>* losses = nullptr) {
  static std::vector<float> l;
  static const auto r = one_worker(l);
  if (losses != nullptr) {
    *losses = l;
  }
  return r;
}

std::vector<train::layer_cost> flop_costs(const nn::gpt2_config& c, std::size_t rows_per_micro) {
  nn::gpt2 model(c, seed);
  std::vector<train::layer_cost> out;
  for (nn::layer* l : model.layers()) {
    const nn::layer_flops f = l->flops(rows_per_micro, seq);
    double bytes = 0;
    for (nn::parameter* p : l->parameters()) {
      bytes += static_cast<double>(p->value.bytes());
    }
    out.push_back({f.forward, f.backward_input, f.backward_weight, bytes, 0});
  }
  return out;
}

pp::schedule make(pp::kind k, int p, int m) {
  pp::schedule_options o;
  o.ranks = p;
  o.microbatches = m;
  o.chunks = 2;
  return pp::make_schedule(k, o);
}

std::vector<std::size_t> cut(const pp::schedule& s, std::size_t rows_per_micro) {
  train::partition_request r;
  r.layers = flop_costs(tiny(), rows_per_micro);
  r.stage_rank = s.stage_rank;
  r.peak_activations.assign(static_cast<std::size_t>(s.ranks), 1);
  return train::make_partition(r).bounds;
}

using param = std::tuple<pp::kind, int, int, int>;  // kind, P, M as a multiple of P, D

class exactness : public ::testing::TestWithParam<param> {};

TEST_P(exactness, parameters_match_one_worker_within_1e_5) {
  const auto [k, p, mult, dp] = GetParam();
  const int m = p * mult;
  if (batch % (dp * m) != 0) {
    GTEST_SKIP();
  }
  if (k == pp::kind::dualpipe_v && m < 2 * p) {
    GTEST_SKIP() << "dualpipe-v needs at least 2P micro-batches";
  }
  const pp::schedule s = make(k, p, m);
  train::parallel_model pm(tiny(), seed, s, cut(s, static_cast<std::size_t>(batch / (dp * m))), dp);
  data d;
  std::vector<float> ref_losses;
  const auto& ref = reference(&ref_losses);
  for (int step = 0; step < steps; ++step) {
    const float loss = pm.forward_backward(d.tokens, d.targets, batch, seq);
    EXPECT_NEAR(loss, ref_losses[static_cast<std::size_t>(step)], 1e-5 * std::abs(ref_losses[0])) << step;
    pm.clip_grad_norm(clip);
    pm.step(lr);
  }
  for (int r = 0; r < dp; ++r) {
    const auto params = pm.parameters(r);
    ASSERT_EQ(params.size(), ref.size());
    for (nn::parameter* q : params) {
      const std::vector<float>& b = ref.at(q->name);
      ASSERT_EQ(q->value.size(), b.size()) << q->name;
      double diff = 0;
      double norm = 0;
      // The key part of c_attn.bias has a gradient of exactly zero in exact arithmetic (softmax ignores a shift of
      // every score by q·b_k), so its float gradient is rounding noise that AdamW normalises into lr-sized steps:
      // compared apart, against lr, below.
      const bool attn_bias = q->name.find("c_attn.bias") != std::string::npos;
      const std::size_t embd = static_cast<std::size_t>(tiny().embd);
      for (std::size_t i = 0; i < b.size(); ++i) {
        const double e = static_cast<double>(q->value[i]) - b[i];
        if (attn_bias && i >= embd && i < 2 * embd) {
          EXPECT_LE(std::abs(e), 2 * steps * lr) << q->name << ' ' << i;
          continue;
        }
        diff += e * e;
        norm += static_cast<double>(b[i]) * b[i];
      }
      EXPECT_LE(std::sqrt(diff), 1e-5 * std::sqrt(norm)) << q->name << " replica " << r;
    }
    // The head's wte copy received the identical updates.
    const nn::parameter& wte = *params.front();
    const nn::parameter& copy = pm.head_wte(r);
    for (std::size_t i = 0; i < wte.value.size(); ++i) {
      ASSERT_EQ(wte.value[i], copy.value[i]) << i;
    }
  }
}

std::string name(const ::testing::TestParamInfo<param>& info) {
  std::string n(pp::kind_name(std::get<0>(info.param)));
  for (char& c : n) {
    if (c == '-') {
      c = '_';
    }
  }
  return n + "_p" + std::to_string(std::get<1>(info.param)) + "_m" +
         std::to_string(std::get<1>(info.param) * std::get<2>(info.param)) + "_d" +
         std::to_string(std::get<3>(info.param));
}

INSTANTIATE_TEST_SUITE_P(all, exactness,
                         ::testing::Combine(::testing::ValuesIn(pp::all_kinds().begin(), pp::all_kinds().end()),
                                            ::testing::Values(2, 4), ::testing::Values(1, 2), ::testing::Values(1, 2)),
                         name);

TEST(data_parallel, one_stage_two_replicas_matches_one_worker) {
  const pp::schedule s = make(pp::kind::gpipe, 1, 1);
  train::parallel_model pm(tiny(), seed, s, {0, 8}, 2);
  data d;
  const auto& ref = reference();
  for (int step = 0; step < steps; ++step) {
    pm.forward_backward(d.tokens, d.targets, batch, seq);
    pm.clip_grad_norm(clip);
    pm.step(lr);
  }
  for (nn::parameter* q : pm.parameters(1)) {
    const std::vector<float>& b = ref.at(q->name);
    double diff = 0, norm = 0;
    const bool attn_bias = q->name.find("c_attn.bias") != std::string::npos;
    const std::size_t embd = static_cast<std::size_t>(tiny().embd);
    for (std::size_t i = 0; i < b.size(); ++i) {
      if (attn_bias && i >= embd && i < 2 * embd) {
        continue;  // the key bias: see exactness above
      }
      diff += (static_cast<double>(q->value[i]) - b[i]) * (static_cast<double>(q->value[i]) - b[i]);
      norm += static_cast<double>(b[i]) * b[i];
    }
    EXPECT_LE(std::sqrt(diff), 1e-5 * std::sqrt(norm)) << q->name;
  }
}

TEST(parallel_model, refuses_a_batch_that_does_not_split) {
  const pp::schedule s = make(pp::kind::one_f_one_b, 2, 4);
  train::parallel_model pm(tiny(), seed, s, {0, 4, 8}, 1);
  data d;
  EXPECT_THROW(pm.forward_backward(std::span(d.tokens).first(6 * seq), std::span(d.targets).first(6 * seq), 6, seq),
               invalid_argument);
  EXPECT_THROW(train::parallel_model(tiny(), seed, s, {0, 8}, 1), invalid_argument);
}

enum class activation_check { none, bound };

void check_memory(activation_check check_activations) {
  nn::memory_ledger one;
  {
    nn::gpt2 model(tiny(), seed, &one);
    nn::adamw opt(model.parameters(), {}, &one);
    data d;
    model.forward_backward(d.tokens, d.targets, batch, seq);
    opt.step(lr);
  }
  const auto static_bytes = [](const nn::memory_ledger& l) {
    return static_cast<double>(l.peak(nn::memory_category::parameters) + l.peak(nn::memory_category::gradients) +
                               l.peak(nn::memory_category::optimizer));
  };
  for (pp::kind k : {pp::kind::gpipe, pp::kind::one_f_one_b, pp::kind::zb_h1, pp::kind::zb_h2}) {
    const int m = 4;
    const pp::schedule s = make(k, 2, m);
    train::parallel_model pm(tiny(), seed, s, {0, 4, 8}, 1);
    data d;
    pm.forward_backward(d.tokens, d.targets, batch, seq);
    pm.step(lr);
    pp::costs c = pp::costs::uniform({});
    const pp::simulation sim = pp::simulate(s, c);
    for (int r = 0; r < 2; ++r) {
      const nn::memory_ledger& l = pm.ledger(0, r);
      // Each rank holds about half of one worker's parameters + gradients + optimizer state (wte is on both).
      EXPECT_LT(static_bytes(l), 0.75 * static_bytes(one)) << pp::kind_name(k) << " rank " << r;
      EXPECT_GT(static_bytes(l), 0.25 * static_bytes(one)) << pp::kind_name(k) << " rank " << r;
      const double predicted =
          sim.peak_activations_until_w(r) * static_cast<double>(pm.micro_batch_activation_bytes(r));
      const auto measured = static_cast<double>(l.peak(nn::memory_category::activations));
      if (check_activations == activation_check::bound) {
        // The partitioner's memory model (the count until W x the most one micro-batch holds at the end of a pass)
        // may miss only the transient inside one pass (a block's I briefly holds both qkv and its gradient).
        EXPECT_LE(measured, 1.05 * predicted) << pp::kind_name(k) << " rank " << r;
        EXPECT_GE(measured, 0.8 * predicted) << pp::kind_name(k) << " rank " << r;
      }
    }
  }
}

TEST(memory, two_stages_hold_about_half_of_one_worker) { check_memory(activation_check::none); }

TEST(memory, the_simulators_count_bounds_the_activation_peak_but_for_one_pass) {
  check_memory(activation_check::bound);
}

// The simulator's count (pp::simulation::peak_activation_bytes over parallel_model::activation_costs): each stage's
// micro-batch holds what it held after its F until its I, then what it held after its I until its W, and while a pass
// runs, that pass's working memory on top (the output not yet sent, the input gradient, a split backward's temporaries,
// attention's scratch). A rank's activations change only in its own passes, in its schedule's order, so the count is
// exact here. Counting only the ends of passes (the two states, the output and the sent gradient counted as held)
// missed the transient inside one pass: 7 % of 1F1B's last rank on the reference model (T 128); on the model of long
// sequences below (attention's T^2 scratch) 25 % under on 1F1B's rank 0 and 50 % over on zb-v's (a one-layer stage's
// output counted in every held micro-batch).
void check_activations_match(const nn::gpt2_config& config, int rows, int length) {
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(rows * length));
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = static_cast<std::int32_t>((i * 7 + 3) % static_cast<std::size_t>(config.vocab));
  }
  for (const pp::kind k : pp::all_kinds()) {
    for (const int m : {4, 8}) {
      const pp::schedule s = make(k, 2, m);
      std::vector<std::size_t> bounds;
      const int layers = config.layers + 2;
      for (int st = 0; st <= s.stages; ++st) {
        bounds.push_back(static_cast<std::size_t>(st * layers / s.stages));
      }
      train::parallel_model pm(config, seed, s, bounds, 1);
      pm.forward_backward(tokens, tokens, rows, length);
      const pp::simulation sim = pp::simulate(s, pm.activation_costs(pp::costs::uniform({})));
      for (int r = 0; r < 2; ++r) {
        const double predicted = sim.peak_activation_bytes(r);
        const auto measured = static_cast<double>(pm.ledger(0, r).peak(nn::memory_category::activations));
        EXPECT_NEAR(measured, predicted, 0.05 * predicted)
            << pp::kind_name(k) << " M " << m << " rank " << r << " T " << length;
      }
    }
  }
}

// The partitioner's per-layer figures (train::measure_layer_costs, one layer alone) are what a stage of that one layer
// holds in a real run: between passes and, as working memory, within them.
TEST(memory, a_layers_profile_holds_what_its_one_layer_stage_holds_in_a_run) {
  nn::gpt2_config config = tiny();
  config.layers = 2;
  const pp::schedule s = make(pp::kind::gpipe, 4, 4);
  train::parallel_model pm(config, seed, s, {0, 1, 2, 3, 4}, 1);
  data d;
  pm.forward_backward(d.tokens, d.targets, batch, seq);
  const auto layers = train::measure_layer_costs(config, seed, batch / 4, seq, train::cost_source::flops);
  ASSERT_EQ(layers.size(), 4U);
  for (int st = 0; st < 4; ++st) {
    const train::parallel_model::stage_activations a = pm.micro_batch_stage_bytes(st);
    const auto l = static_cast<std::size_t>(st);
    EXPECT_EQ(layers[l].activation_bytes, static_cast<double>(a.after_forward)) << st;
    EXPECT_EQ(layers[l].w_bytes, static_cast<double>(a.after_input_grad)) << st;
    EXPECT_EQ(layers[l].work_bytes,
              static_cast<double>(std::max({a.forward_work, a.input_grad_work, a.weight_grad_work})))
        << st;
    EXPECT_GT(a.forward_work, 0U) << st;  // at least its output, until sent
  }
}

TEST(memory, activations_match_the_simulator) {
  check_activations_match(tiny(), batch, seq);
  nn::gpt2_config long_sequences = tiny();
  long_sequences.context = 64;
  long_sequences.heads = 4;
  long_sequences.layers = 2;
  check_activations_match(long_sequences, 8, 64);
}

}  // namespace
