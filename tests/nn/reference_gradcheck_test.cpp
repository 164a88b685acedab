// The reference ops' backward formulas against central finite differences of their own forward, in double.
// Each check draws a random projection r and differentiates L = Σ r·y numerically.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "nn_test_util.hpp"
#include "taskpipe/nn/reference_ops.hpp"

namespace nn = taskpipe::nn;
using dvec = std::vector<double>;

namespace {

dvec random_doubles(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  const auto f = nn::test::random_floats(n, seed, scale);
  return {f.begin(), f.end()};
}

double dot(const dvec& a, const dvec& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    s += a[i] * b[i];
  }
  return s;
}

// d L / d input[i] by central differences, L = loss(input); compared with `analytic` at every element.
::testing::AssertionResult matches_finite_differences(dvec& input, const std::function<double()>& loss,
                                                      const dvec& analytic) {
  constexpr double h = 1e-6;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const double keep = input[i];
    input[i] = keep + h;
    const double up = loss();
    input[i] = keep - h;
    const double down = loss();
    input[i] = keep;
    const double numeric = (up - down) / (2 * h);
    if (std::abs(numeric - analytic[i]) > 1e-6 + 1e-5 * std::abs(numeric)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": numeric " << numeric << " vs analytic " << analytic[i];
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(reference_gradients, linear) {
  const nn::linear_dims d{.rows = 3, .in = 4, .out = 5};
  dvec x = random_doubles(12, 1), w = random_doubles(20, 2), b = random_doubles(5, 3);
  const dvec r = random_doubles(15, 4);
  auto loss = [&] {
    dvec y(15);
    nn::ref::linear_forward(x, w, b, y, d);
    return dot(y, r);
  };
  dvec dx(12), dw(20), db(5);
  nn::ref::linear_backward_input(r, w, dx, d);
  nn::ref::linear_backward_weight(x, r, dw, db, d);
  EXPECT_TRUE(matches_finite_differences(x, loss, dx));
  EXPECT_TRUE(matches_finite_differences(w, loss, dw));
  EXPECT_TRUE(matches_finite_differences(b, loss, db));
}

TEST(reference_gradients, tied_head) {
  const nn::linear_dims d{.rows = 3, .in = 4, .out = 6};
  dvec x = random_doubles(12, 5), wte = random_doubles(24, 6);
  const dvec r = random_doubles(18, 7);
  auto loss = [&] {
    dvec y(18);
    nn::ref::tied_head_forward(x, wte, y, d);
    return dot(y, r);
  };
  dvec dx(12), dw(24);
  nn::ref::tied_head_backward_input(r, wte, dx, d);
  nn::ref::tied_head_backward_weight(x, r, dw, d);
  EXPECT_TRUE(matches_finite_differences(x, loss, dx));
  EXPECT_TRUE(matches_finite_differences(wte, loss, dw));
}

TEST(reference_gradients, layernorm) {
  const nn::layernorm_dims d{.rows = 3, .c = 6};
  dvec x = random_doubles(18, 8, 2.0), w = random_doubles(6, 9), b = random_doubles(6, 10);
  const dvec r = random_doubles(18, 11);
  dvec mean(3), rstd(3);
  auto loss = [&] {
    dvec y(18), m(3), s(3);
    nn::ref::layernorm_forward(x, w, b, y, m, s, d);
    return dot(y, r);
  };
  dvec y(18);
  nn::ref::layernorm_forward(x, w, b, y, mean, rstd, d);
  dvec dx(18), dw(6), db(6);
  nn::ref::layernorm_backward_input(r, x, mean, rstd, w, dx, d);
  nn::ref::layernorm_backward_weight(r, x, mean, rstd, dw, db, d);
  EXPECT_TRUE(matches_finite_differences(x, loss, dx));
  EXPECT_TRUE(matches_finite_differences(w, loss, dw));
  EXPECT_TRUE(matches_finite_differences(b, loss, db));
}

TEST(reference_gradients, attention) {
  const nn::attention_dims d{.batch = 2, .seq = 4, .heads = 2, .embd = 6};
  dvec qkv = random_doubles(8 * 18, 12);
  const dvec r = random_doubles(8 * 6, 13);
  auto loss = [&] {
    dvec out(48), probs(2 * 2 * 16);
    nn::ref::attention_forward(qkv, out, probs, d);
    return dot(out, r);
  };
  dvec out(48), probs(64), dqkv(qkv.size());
  nn::ref::attention_forward(qkv, out, probs, d);
  nn::ref::attention_backward(r, qkv, probs, dqkv, d);
  EXPECT_TRUE(matches_finite_differences(qkv, loss, dqkv));
}

TEST(reference_gradients, gelu) {
  dvec x = random_doubles(40, 14, 3.0);
  const dvec r = random_doubles(40, 15);
  auto loss = [&] {
    dvec y(40);
    nn::ref::gelu_forward(x, y);
    return dot(y, r);
  };
  dvec dx(40);
  nn::ref::gelu_backward(r, x, dx);
  EXPECT_TRUE(matches_finite_differences(x, loss, dx));
}

TEST(reference_gradients, embedding) {
  const nn::embedding_dims d{.batch = 2, .seq = 3, .vocab = 4, .context = 5, .c = 3};
  const std::vector<std::int32_t> tokens = {1, 3, 1, 0, 1, 2};
  dvec wte = random_doubles(12, 16), wpe = random_doubles(15, 17);
  const dvec r = random_doubles(18, 18);
  auto loss = [&] {
    dvec y(18);
    nn::ref::embedding_forward(tokens, wte, wpe, y, d);
    return dot(y, r);
  };
  dvec dwte(12), dwpe(15);
  nn::ref::embedding_backward_weight(tokens, r, dwte, dwpe, d);
  EXPECT_TRUE(matches_finite_differences(wte, loss, dwte));
  EXPECT_TRUE(matches_finite_differences(wpe, loss, dwpe));
}

TEST(reference_gradients, cross_entropy) {
  const std::vector<std::int32_t> targets = {2, 0, 4};
  dvec logits = random_doubles(15, 19, 2.0);
  auto loss = [&] {
    dvec z = logits;
    return nn::ref::softmax_cross_entropy(z, targets, 3, 5, 1.0) / 3.0;
  };
  dvec grad = logits;
  (void)nn::ref::softmax_cross_entropy(grad, targets, 3, 5, 1.0 / 3.0);
  EXPECT_TRUE(matches_finite_differences(logits, loss, grad));
}
