#include "taskpipe/nn/gpt2.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "nn_test_util.hpp"
#include "reference_model.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/non_finite_error.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace nn = taskpipe::nn;
using nn::test::all_close;
using nn::test::bit_equal;

namespace {

nn::gpt2_config micro_config() { return {.vocab = 11, .context = 8, .embd = 8, .layers = 2, .heads = 2}; }

// Non-trivial LayerNorm parameters and biases, so their gradients and effects are tested (init sets them to 1 and 0).
void perturb(nn::gpt2& m, std::uint64_t seed) {
  std::uint64_t k = seed;
  for (nn::parameter* p : m.parameters()) {
    auto noise = nn::test::random_floats(p->value.size(), ++k, 0.1);
    for (std::size_t i = 0; i < noise.size(); ++i) {
      p->value[i] += noise[i];
    }
  }
}

}  // namespace

TEST(gpt2, forward_backward_matches_the_double_reference_model_tensor_by_tensor) {
  const nn::gpt2_config c = micro_config();
  nn::gpt2 m(c, 7);
  perturb(m, 100);
  const std::size_t b = 2;
  const std::size_t t = 5;
  const auto tokens = nn::test::random_ids(b * t, 11, 1);
  const auto targets = nn::test::random_ids(b * t, 11, 2);
  const float loss = m.forward_backward(tokens, targets, 2, 5);
  const auto ref = nn::test::reference_forward_backward(m, tokens, targets, b, t);
  // float32 throughout the fast path: 1e-5 relative on the loss, gradients within 1e-5 absolute + 1e-3 relative.
  EXPECT_NEAR(loss, ref.loss, 1e-5 * ref.loss);
  const auto params = m.parameters();
  ASSERT_EQ(params.size(), ref.grads.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(all_close(params[i]->grad.span(), ref.grads[i], 1e-5, 1e-3)) << params[i]->name;
  }
}

TEST(gpt2, parameters_have_hugging_face_names_shapes_and_order) {
  nn::gpt2 m({.vocab = 256, .context = 16, .embd = 8, .layers = 2, .heads = 2}, 1);
  const auto params = m.parameters();
  std::vector<std::string> names;
  for (const auto* p : params) {
    names.push_back(p->name + " " + p->value.shape_string());
  }
  const std::vector<std::string> block = {"ln_1.weight [8]",
                                          "ln_1.bias [8]",
                                          "attn.c_attn.weight [8, 24]",
                                          "attn.c_attn.bias [24]",
                                          "attn.c_proj.weight [8, 8]",
                                          "attn.c_proj.bias [8]",
                                          "ln_2.weight [8]",
                                          "ln_2.bias [8]",
                                          "mlp.c_fc.weight [8, 32]",
                                          "mlp.c_fc.bias [32]",
                                          "mlp.c_proj.weight [32, 8]",
                                          "mlp.c_proj.bias [8]"};
  std::vector<std::string> want = {"wte.weight [256, 8]", "wpe.weight [16, 8]"};
  for (int i = 0; i < 2; ++i) {
    for (const auto& s : block) {
      want.push_back("h." + std::to_string(i) + "." + s);
    }
  }
  want.emplace_back("ln_f.weight [8]");
  want.emplace_back("ln_f.bias [8]");
  EXPECT_EQ(names, want);
  std::size_t total = 0;
  for (const auto* p : params) {
    total += p->value.size();
    EXPECT_EQ(p->grad.shape(), p->value.shape()) << p->name;
    EXPECT_EQ(p->decay, p->value.shape().size() == 2) << p->name;
  }
  EXPECT_EQ(total, m.config().parameter_count());
}

TEST(gpt2, init_is_gpt2s_and_the_same_seed_gives_the_same_bits) {
  const nn::gpt2_config c{.vocab = 256, .context = 64, .embd = 64, .layers = 4, .heads = 4};
  nn::gpt2 a(c, 42);
  nn::gpt2 b(c, 42);
  nn::gpt2 other(c, 43);
  const auto pa = a.parameters();
  const auto pb = b.parameters();
  const auto po = other.parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(bit_equal(pa[i]->value.span(), pb[i]->value.span())) << pa[i]->name;
    const std::string& name = pa[i]->name;
    const auto v = pa[i]->value.span();
    double sum = 0.0;
    double sq = 0.0;
    for (const float x : v) {
      sum += x;
      sq += static_cast<double>(x) * x;
    }
    const double mean = sum / static_cast<double>(v.size());
    const double sd = std::sqrt(sq / static_cast<double>(v.size()) - mean * mean);
    if (name.ends_with("ln_1.weight") || name.ends_with("ln_2.weight") || name == "ln_f.weight") {
      EXPECT_EQ(mean, 1.0) << name;
      EXPECT_EQ(sd, 0.0) << name;
    } else if (name.ends_with(".bias")) {
      EXPECT_EQ(sq, 0.0) << name;
    } else {
      const bool residual = name.ends_with("attn.c_proj.weight") || name.ends_with("mlp.c_proj.weight");
      const double want = residual ? 0.02 / std::sqrt(2.0 * c.layers) : 0.02;
      EXPECT_NEAR(sd, want, 0.06 * want) << name;  // >= 4096 draws: the sample sd is within a few percent
      EXPECT_NEAR(mean, 0.0, 0.1 * want) << name;
      EXPECT_FALSE(bit_equal(pa[i]->value.span(), po[i]->value.span())) << name << " ignores the seed";
    }
  }
}

TEST(gpt2, a_layer_built_alone_has_the_values_the_whole_model_gives_it) {
  const nn::gpt2_config c = micro_config();
  nn::gpt2 m(c, 5);
  const auto block1 = nn::make_layer(c, 2, 5);
  const auto mine = m.block(1).parameters();
  const auto alone = block1->parameters();
  ASSERT_EQ(mine.size(), alone.size());
  for (std::size_t i = 0; i < mine.size(); ++i) {
    EXPECT_EQ(mine[i]->name, alone[i]->name);
    EXPECT_TRUE(bit_equal(mine[i]->value.span(), alone[i]->value.span())) << mine[i]->name;
  }
  // The untied head of a last pipeline stage owns a wte equal to the embedding's.
  auto head = nn::make_layer(c, 3, 5);
  auto* h = dynamic_cast<nn::head_layer*>(head.get());
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(h->tied());
  EXPECT_TRUE(bit_equal(h->wte().value.span(), m.embedding().wte().value.span()));
  EXPECT_EQ(h->parameters().front()->name, "wte.weight");
  EXPECT_TRUE(m.head().tied());
  EXPECT_THROW((void)nn::make_layer(c, 4, 5), taskpipe::invalid_argument);
}

TEST(gpt2, loss_at_init_is_near_log_vocab) {
  nn::gpt2 m(nn::preset("tiny"), 3);
  const auto tokens = nn::test::random_ids(2 * 32, 256, 4);
  const auto targets = nn::test::random_ids(2 * 32, 256, 5);
  const float l = m.loss(tokens, targets, 2, 32);
  EXPECT_NEAR(l, std::log(256.0), 0.1);
  EXPECT_EQ(m.forward_backward(tokens, targets, 2, 32), l);
}

TEST(gpt2_config, validate_names_the_bad_value_and_the_rule) {
  auto message = [](nn::gpt2_config c) {
    try {
      c.validate();
    } catch (const taskpipe::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message({}), "accepted");
  EXPECT_NE(message({.embd = 256, .heads = 3}).find("heads = 3 does not divide embd = 256"), std::string::npos);
  EXPECT_NE(message({.vocab = 1}).find("vocab = 1 is out of range [2, 1048576]"), std::string::npos);
  EXPECT_NE(message({.context = 0}).find("context = 0"), std::string::npos);
  EXPECT_NE(message({.embd = 9000}).find("embd = 9000"), std::string::npos);
  EXPECT_NE(message({.layers = 0}).find("layers = 0"), std::string::npos);
  EXPECT_NE(message({.embd = 8, .heads = 16}).find("heads = 16 is out of range [1, 8]"), std::string::npos);
  EXPECT_THROW(nn::gpt2({.heads = 7}, 1), taskpipe::invalid_argument);
}

TEST(gpt2_config, presets_are_the_documented_sizes) {
  EXPECT_EQ(nn::preset("small"), (nn::gpt2_config{.vocab = 256, .context = 128, .embd = 256, .layers = 6, .heads = 8}));
  EXPECT_EQ(nn::preset("deep").layers, 12);
  EXPECT_EQ(nn::preset("tiny").embd, 64);
  try {
    (void)nn::preset("huge");
    FAIL() << "accepted an unknown preset";
  } catch (const taskpipe::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'huge' (presets: tiny, small, deep)"), std::string::npos);
  }
}

TEST(gpt2, refuses_bad_batches) {
  nn::gpt2 m(micro_config(), 1);
  const auto tokens = nn::test::random_ids(2 * 4, 11, 1);
  EXPECT_THROW((void)m.loss(tokens, tokens, 2, 9), taskpipe::invalid_argument);  // longer than the context
  EXPECT_THROW((void)m.loss(tokens, tokens, 3, 4), taskpipe::invalid_argument);  // wrong count
  EXPECT_THROW((void)m.loss(tokens, tokens, 0, 4), taskpipe::invalid_argument);
  auto bad = tokens;
  bad[5] = 11;
  try {
    (void)m.loss(bad, tokens, 2, 4);
    FAIL() << "accepted token 11 in a vocabulary of 11";
  } catch (const taskpipe::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("token 11 at position 5"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)m.loss(tokens, bad, 2, 4), taskpipe::invalid_argument);
  EXPECT_THROW((void)m.next_token_logits(std::vector<std::int32_t>(9, 1)), taskpipe::invalid_argument);
  EXPECT_THROW((void)m.next_token_logits({}), taskpipe::invalid_argument);
}

TEST(gpt2, a_nan_is_reported_with_the_first_layer_it_appeared_in) {
  nn::gpt2 m(micro_config(), 1);
  const auto tokens = nn::test::random_ids(2 * 4, 11, 1);
  m.block(1).parameters()[4]->value[3] = NAN;  // h.1.attn.c_proj.weight
  try {
    (void)m.forward_backward(tokens, tokens, 2, 4);
    FAIL() << "a NaN weight went unnoticed";
  } catch (const nn::non_finite_error& e) {
    EXPECT_EQ(e.layer(), "h.1");
    EXPECT_NE(std::string(e.what()).find("layer h.1"), std::string::npos);
  }
  m.block(1).parameters()[4]->value[3] = 0.0F;
  m.parameters().back()->value[0] = INFINITY;  // ln_f.bias
  try {
    (void)m.loss(tokens, tokens, 2, 4);
    FAIL() << "an infinite weight went unnoticed";
  } catch (const nn::non_finite_error& e) {
    EXPECT_EQ(e.layer(), "head");
  }
}

TEST(gpt2, the_gemm_listing_counts_the_steps_flops) {
  const nn::gpt2_config c = nn::preset("small");
  nn::gpt2 m(c, 1);
  const double b = 8, t = 128, d = 256, v = 256, layers = 6, hd = 32, heads = 8;
  const double n = b * t;
  const double linear = 2 * n * (3 * d * d + d * d + 4 * d * d + 4 * d * d);  // c_attn, c_proj, c_fc, mlp.c_proj
  const double attention = 2 * b * heads * t * t * hd;                        // one of q·kᵀ, p·v, dv, dp, dq, dk
  const double head = 2 * n * d * v;
  double f = 0;
  double bw = 0;
  double w = 0;
  for (const auto& g : m.gemms(8, 128)) {
    (g.pass == 'F' ? f : g.pass == 'B' ? bw : w) += g.flops();
    EXPECT_GE(g.lda_or_packed(), g.trans_a ? g.m : g.k) << g.name;
    EXPECT_GE(g.ldb_or_packed(), g.trans_b ? g.k : g.n) << g.name;
    EXPECT_GE(g.ldc_or_packed(), g.n) << g.name;
  }
  EXPECT_DOUBLE_EQ(f, layers * (linear + 2 * attention) + head);
  EXPECT_DOUBLE_EQ(bw, layers * (linear + 4 * attention) + head);
  EXPECT_DOUBLE_EQ(w, layers * linear + head);
  const nn::layer_flops lf = m.block(0).flops(8, 128);
  EXPECT_DOUBLE_EQ(lf.forward, linear + 2 * attention);
  EXPECT_DOUBLE_EQ(lf.backward_weight, linear);
  EXPECT_EQ(m.embedding().flops(8, 128).forward, 0.0);
}
