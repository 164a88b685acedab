// AdamW, clipping and the schedule against plain double-precision implementations of torch's formulas.
#include "taskpipe/nn/adamw.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "taskpipe/error.hpp"

namespace nn = taskpipe::nn;

namespace {

// A tiny deterministic generator for test values in [-1, 1).
struct lcg {
  std::uint64_t state;
  double next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53) * 2.0 - 1.0;
  }
};

// torch.optim.AdamW's single-tensor update, in double.
struct reference_adamw {
  std::vector<double> p, m, v;
  bool decay;
  void step(const std::vector<double>& g, const nn::adamw_options& o, double lr, int t) {
    for (std::size_t k = 0; k < p.size(); ++k) {
      if (decay) {
        p[k] *= 1 - lr * o.weight_decay;
      }
      m[k] = o.beta1 * m[k] + (1 - o.beta1) * g[k];
      v[k] = o.beta2 * v[k] + (1 - o.beta2) * g[k] * g[k];
      const double bc1 = 1 - std::pow(o.beta1, t);
      const double bc2 = 1 - std::pow(o.beta2, t);
      p[k] -= lr / bc1 * m[k] / (std::sqrt(v[k]) / std::sqrt(bc2) + o.eps);
    }
  }
};

nn::parameter make_parameter(std::vector<std::size_t> shape, bool decay, lcg& r, nn::memory_ledger* ledger) {
  nn::parameter p{"p", nn::tensor(shape, nn::memory_category::parameters, ledger),
                  nn::tensor(shape, nn::memory_category::gradients, ledger), decay};
  for (float& x : p.value.span()) {
    x = static_cast<float>(r.next());
  }
  return p;
}

}  // namespace

TEST(adamw, matches_the_double_reference_of_torchs_update_over_many_steps) {
  lcg r{42};
  nn::memory_ledger ledger;
  nn::parameter w = make_parameter({7, 5}, true, r, &ledger);
  nn::parameter b = make_parameter({5}, false, r, &ledger);
  const nn::adamw_options o{.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1};
  nn::adamw opt({&w, &b}, o, &ledger);
  EXPECT_EQ(ledger.current(nn::memory_category::optimizer), 2 * (35 + 5) * sizeof(float));

  std::vector<reference_adamw> ref(2);
  for (std::size_t i = 0; i < 2; ++i) {
    const nn::parameter& p = i == 0 ? w : b;
    ref[i].p.assign(p.value.span().begin(), p.value.span().end());
    ref[i].m.assign(p.value.size(), 0);
    ref[i].v.assign(p.value.size(), 0);
    ref[i].decay = p.decay;
  }
  for (int t = 1; t <= 50; ++t) {
    const double lr = 1e-2 * (t % 3 == 0 ? 0.5 : 1.0);  // the rate may change between steps
    for (std::size_t i = 0; i < 2; ++i) {
      nn::parameter& p = i == 0 ? w : b;
      std::vector<double> g(p.value.size());
      for (std::size_t k = 0; k < g.size(); ++k) {
        p.grad[k] = static_cast<float>(r.next() * (k % 4 == 0 ? 1e-3 : 1.0));  // small and large gradients
        g[k] = p.grad[k];
      }
      ref[i].step(g, o, lr, t);
    }
    opt.step(lr);
  }
  EXPECT_EQ(opt.steps(), 50);
  for (std::size_t i = 0; i < 2; ++i) {
    const nn::parameter& p = i == 0 ? w : b;
    for (std::size_t k = 0; k < p.value.size(); ++k) {
      // float32 arithmetic against double: a few ulps of a value near 1 per step, accumulated over 50 steps.
      EXPECT_NEAR(p.value[k], ref[i].p[k], 2e-5) << "parameter " << i << " element " << k;
      EXPECT_NEAR(opt.exp_avg(i)[k], ref[i].m[k], 1e-6);
      EXPECT_NEAR(opt.exp_avg_sq(i)[k], ref[i].v[k], 1e-6);
    }
  }
}

TEST(adamw, decays_only_parameters_marked_for_decay) {
  lcg r{7};
  nn::parameter w = make_parameter({3, 3}, true, r, nullptr);
  nn::parameter b = make_parameter({3}, false, r, nullptr);
  const float w0 = w.value[0];
  const float b0 = b.value[0];
  nn::adamw opt({&w, &b}, {.lr = 0.5, .weight_decay = 0.2}, nullptr);
  opt.step(0.5);  // zero gradients: Adam's step is 0, only the decay moves a weight
  EXPECT_FLOAT_EQ(w.value[0], w0 * (1 - 0.5F * 0.2F));
  EXPECT_EQ(b.value[0], b0);
}

TEST(adamw, refuses_options_out_of_range) {
  EXPECT_THROW((nn::adamw_options{.lr = 0}.validate()), taskpipe::invalid_argument);
  EXPECT_THROW((nn::adamw_options{.beta1 = 1}.validate()), taskpipe::invalid_argument);
  EXPECT_THROW((nn::adamw_options{.beta2 = -0.1}.validate()), taskpipe::invalid_argument);
  EXPECT_THROW((nn::adamw_options{.eps = 0}.validate()), taskpipe::invalid_argument);
  EXPECT_THROW((nn::adamw_options{.weight_decay = -1}.validate()), taskpipe::invalid_argument);
  EXPECT_NO_THROW(nn::adamw_options{}.validate());
}

TEST(clip_grad_norm, scales_to_max_norm_only_when_the_norm_is_larger) {
  lcg r{3};
  nn::parameter a = make_parameter({4, 4}, true, r, nullptr);
  nn::parameter b = make_parameter({4}, false, r, nullptr);
  double sum = 0;
  std::vector<double> g;
  for (nn::parameter* p : {&a, &b}) {
    for (float& x : p->grad.span()) {
      x = static_cast<float>(r.next() * 3);
      g.push_back(x);
      sum += static_cast<double>(x) * x;
    }
  }
  const double norm = std::sqrt(sum);
  std::vector<nn::parameter*> ps{&a, &b};
  EXPECT_NEAR(nn::clip_grad_norm(ps, 2 * norm), norm, 1e-9 * norm);  // no clipping: gradients untouched
  EXPECT_EQ(static_cast<double>(a.grad[0]), g[0]);
  const double max_norm = 1.0;
  EXPECT_NEAR(nn::clip_grad_norm(ps, max_norm), norm, 1e-9 * norm);
  const double coef = max_norm / (norm + 1e-6);
  std::size_t k = 0;
  for (nn::parameter* p : ps) {
    for (const float x : p->grad.span()) {
      EXPECT_NEAR(x, g[k++] * coef, 1e-6);
    }
  }
  EXPECT_NEAR(nn::grad_norm(ps), max_norm, 1e-5);
  EXPECT_THROW(nn::clip_grad_norm(ps, 0), taskpipe::invalid_argument);
}

TEST(lr_schedule, is_constant_by_default_and_warms_up_then_follows_the_cosine_to_its_floor) {
  const nn::lr_schedule constant{.lr = 1e-3, .steps = 10};
  EXPECT_EQ(constant.at(0), 1e-3);
  EXPECT_EQ(constant.at(9), 1e-3);
  const nn::lr_schedule s{.lr = 1e-3, .warmup = 4, .cosine = true, .floor = 0.1, .steps = 14};
  EXPECT_DOUBLE_EQ(s.at(0), 1e-3 * 1 / 4);
  EXPECT_DOUBLE_EQ(s.at(3), 1e-3);
  EXPECT_DOUBLE_EQ(s.at(4), 1e-3);  // the cosine starts at the peak
  for (std::int64_t t = 4; t < 14; ++t) {
    const double ratio = static_cast<double>(t - 4) / 9.0;
    EXPECT_NEAR(s.at(t), 1e-4 + 0.5 * (1 + std::cos(std::numbers::pi * ratio)) * (1e-3 - 1e-4), 1e-15);
  }
  EXPECT_DOUBLE_EQ(s.at(13), 1e-4);  // the last step is at the floor
  EXPECT_DOUBLE_EQ(s.at(100), 1e-4);
  EXPECT_THROW((nn::lr_schedule{.warmup = -1}.validate()), taskpipe::invalid_argument);
  EXPECT_THROW((nn::lr_schedule{.floor = 2}.validate()), taskpipe::invalid_argument);
}
