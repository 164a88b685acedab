// Every fast op against its double reference, tensor by tensor; B+W against the fused backward; the same bits on any
// worker count.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nn_test_util.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/attention.hpp"
#include "taskpipe/nn/cross_entropy.hpp"
#include "taskpipe/nn/elementwise.hpp"
#include "taskpipe/nn/embedding.hpp"
#include "taskpipe/nn/layernorm.hpp"
#include "taskpipe/nn/linear.hpp"
#include "taskpipe/nn/reference_ops.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace nn = taskpipe::nn;
using nn::test::all_close;
using nn::test::bit_equal;
using nn::test::random_floats;
using nn::test::to_double;
using fvec = std::vector<float>;
using dvec = std::vector<double>;

namespace {

// Tolerances: float32 sums of at most a few hundred terms against exact doubles.
constexpr double abs_tol = 1e-5;
constexpr double rel_tol = 1e-4;

// Shapes that are not multiples of the GEMM kernels' panels, and enough rows and columns that three workers split them.
constexpr nn::linear_dims lin{.rows = 67, .in = 37, .out = 99};

taskpipe::executor& three_workers() {
  static taskpipe::executor ex{{.workers = 3, .spin_before_sleep = std::chrono::microseconds{0}}};
  return ex;
}

}  // namespace

TEST(linear, forward_b_and_w_match_the_reference) {
  const auto x = random_floats(lin.rows * lin.in, 1);
  const auto w = random_floats(lin.in * lin.out, 2, 0.1);
  const auto b = random_floats(lin.out, 3);
  const auto dy = random_floats(lin.rows * lin.out, 4);
  fvec y(lin.rows * lin.out), dx(lin.rows * lin.in), dw(lin.in * lin.out, 0.5F), db(lin.out, 0.25F);
  nn::linear_forward(x, w, b, y, lin);
  nn::linear_backward_input(dy, w, dx, lin, false);
  nn::linear_backward_weight(x, dy, dw, db, lin);
  dvec ry(y.size()), rdx(dx.size()), rdw(dw.size(), 0.5), rdb(db.size(), 0.25);
  nn::ref::linear_forward(to_double(x), to_double(w), to_double(b), ry, lin);
  nn::ref::linear_backward_input(to_double(dy), to_double(w), rdx, lin);
  nn::ref::linear_backward_weight(to_double(x), to_double(dy), rdw, rdb, lin);
  EXPECT_TRUE(all_close(y, ry, abs_tol, rel_tol));
  EXPECT_TRUE(all_close(dx, rdx, abs_tol, rel_tol));
  EXPECT_TRUE(all_close(dw, rdw, abs_tol, rel_tol));  // W accumulates onto what was there
  EXPECT_TRUE(all_close(db, rdb, abs_tol, rel_tol));
  // B with accumulate adds onto dx.
  fvec dx2(dx.size(), 1.0F);
  nn::linear_backward_input(dy, w, dx2, lin, true);
  for (double& v : rdx) {
    v += 1.0;
  }
  EXPECT_TRUE(all_close(dx2, rdx, abs_tol, rel_tol));
}

TEST(linear, split_b_and_w_equal_the_fused_backward_and_any_worker_count_gives_the_same_bits) {
  const auto x = random_floats(lin.rows * lin.in, 5);
  const auto w = random_floats(lin.in * lin.out, 6, 0.1);
  const auto dy = random_floats(lin.rows * lin.out, 7);
  fvec dx1(lin.rows * lin.in), dw1(lin.in * lin.out), db1(lin.out);
  nn::linear_backward_input(dy, w, dx1, lin, false);
  nn::linear_backward_weight(x, dy, dw1, db1, lin);
  fvec dx2(dx1.size()), dw2(dw1.size()), db2(db1.size());
  nn::linear_backward(x, dy, w, dx2, dw2, db2, lin, false);
  EXPECT_TRUE(bit_equal(dx1, dx2));
  EXPECT_TRUE(bit_equal(dw1, dw2));
  EXPECT_TRUE(bit_equal(db1, db2));
  fvec y1(lin.rows * lin.out), y3(y1.size()), dx3(dx1.size()), dw3(dw1.size()), db3(db1.size());
  const auto b = random_floats(lin.out, 8);
  nn::linear_forward(x, w, b, y1, lin);
  nn::linear_forward(x, w, b, y3, lin, &three_workers());
  nn::linear_backward(x, dy, w, dx3, dw3, db3, lin, false, &three_workers());
  EXPECT_TRUE(all_close(y3, to_double(y1), 1e-6, 1e-6));
  // OpenBLAS picks its kernels by shape, so a GEMM cut into row or column blocks may differ in the last bits; the
  // non-GEMM parts (the bias sums) are split so that they cannot.
  EXPECT_TRUE(all_close(dx3, to_double(dx1), 1e-6, 1e-6));
  EXPECT_TRUE(all_close(dw3, to_double(dw1), 1e-6, 1e-6));
  EXPECT_TRUE(bit_equal(db1, db3));
}

TEST(linear, refuses_mismatched_sizes) {
  fvec x(10), w(12), y(6);
  EXPECT_THROW(nn::linear_forward(x, w, {}, y, {.rows = 2, .in = 4, .out = 3}), taskpipe::invalid_argument);
}

TEST(tied_head, forward_b_and_w_match_the_reference_on_any_worker_count) {
  const nn::linear_dims d{.rows = 45, .in = 24, .out = 70};  // in = embd, out = vocab
  const auto x = random_floats(d.rows * d.in, 11);
  const auto wte = random_floats(d.out * d.in, 12, 0.1);
  const auto dl = random_floats(d.rows * d.out, 13);
  for (taskpipe::executor* ex : {static_cast<taskpipe::executor*>(nullptr), &three_workers()}) {
    fvec logits(d.rows * d.out), dx(d.rows * d.in), dw(d.out * d.in);
    nn::tied_head_forward(x, wte, logits, d, ex);
    nn::tied_head_backward_input(dl, wte, dx, d, ex);
    nn::tied_head_backward_weight(x, dl, dw, d, ex);
    dvec rl(logits.size()), rdx(dx.size()), rdw(dw.size());
    nn::ref::tied_head_forward(to_double(x), to_double(wte), rl, d);
    nn::ref::tied_head_backward_input(to_double(dl), to_double(wte), rdx, d);
    nn::ref::tied_head_backward_weight(to_double(x), to_double(dl), rdw, d);
    EXPECT_TRUE(all_close(logits, rl, abs_tol, rel_tol));
    EXPECT_TRUE(all_close(dx, rdx, abs_tol, rel_tol));
    EXPECT_TRUE(all_close(dw, rdw, abs_tol, rel_tol));
  }
}

TEST(layernorm, forward_b_and_w_match_the_reference_and_the_fused_backward) {
  const nn::layernorm_dims d{.rows = 37, .c = 80};
  auto x = random_floats(d.rows * d.c, 21, 2.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] += 3.0F;  // an offset, so the mean matters
  }
  const auto w = random_floats(d.c, 22);
  const auto b = random_floats(d.c, 23);
  const auto dy = random_floats(d.rows * d.c, 24);
  fvec y(x.size()), mean(d.rows), rstd(d.rows), dx(x.size()), dw(d.c), db(d.c);
  nn::layernorm_forward(x, w, b, y, mean, rstd, d);
  nn::layernorm_backward_input(dy, x, mean, rstd, w, dx, d, false);
  nn::layernorm_backward_weight(dy, x, mean, rstd, dw, db, d);
  dvec ry(y.size()), rmean(d.rows), rrstd(d.rows), rdx(dx.size()), rdw(d.c), rdb(d.c);
  nn::ref::layernorm_forward(to_double(x), to_double(w), to_double(b), ry, rmean, rrstd, d);
  nn::ref::layernorm_backward_input(to_double(dy), to_double(x), rmean, rrstd, to_double(w), rdx, d);
  nn::ref::layernorm_backward_weight(to_double(dy), to_double(x), rmean, rrstd, rdw, rdb, d);
  EXPECT_TRUE(all_close(y, ry, abs_tol, rel_tol));
  EXPECT_TRUE(all_close(mean, rmean, abs_tol, rel_tol));
  EXPECT_TRUE(all_close(rstd, rrstd, abs_tol, rel_tol));
  EXPECT_TRUE(all_close(dx, rdx, abs_tol, rel_tol));
  EXPECT_TRUE(all_close(dw, rdw, abs_tol, rel_tol));
  EXPECT_TRUE(all_close(db, rdb, abs_tol, rel_tol));
  fvec fdx(x.size()), fdw(d.c), fdb(d.c);
  nn::layernorm_backward(dy, x, mean, rstd, w, fdx, fdw, fdb, d, false);
  EXPECT_TRUE(bit_equal(fdx, dx));
  EXPECT_TRUE(bit_equal(fdw, dw));
  EXPECT_TRUE(bit_equal(fdb, db));
  fvec y3(x.size()), m3(d.rows), r3(d.rows), dx3(x.size(), 0.0F), dw3(d.c), db3(d.c);
  nn::layernorm_forward(x, w, b, y3, m3, r3, d, &three_workers());
  nn::layernorm_backward_input(dy, x, m3, r3, w, dx3, d, false, &three_workers());
  nn::layernorm_backward_weight(dy, x, m3, r3, dw3, db3, d, &three_workers());
  EXPECT_TRUE(bit_equal(y3, y));
  EXPECT_TRUE(bit_equal(dx3, dx));
  EXPECT_TRUE(bit_equal(dw3, dw));
  EXPECT_TRUE(bit_equal(db3, db));
}

TEST(attention, forward_and_backward_match_the_reference_on_any_worker_count) {
  const nn::attention_dims d{.batch = 3, .seq = 13, .heads = 4, .embd = 32};
  const std::size_t rows = d.batch * d.seq;
  const auto qkv = random_floats(rows * 3 * d.embd, 31);
  const auto dout = random_floats(rows * d.embd, 32);
  dvec rout(rows * d.embd), rprobs(d.batch * d.heads * d.seq * d.seq), rdqkv(qkv.size());
  nn::ref::attention_forward(to_double(qkv), rout, rprobs, d);
  nn::ref::attention_backward(to_double(dout), to_double(qkv), rprobs, rdqkv, d);
  fvec out1, probs1, dqkv1;
  for (taskpipe::executor* ex : {static_cast<taskpipe::executor*>(nullptr), &three_workers()}) {
    fvec out(rout.size()), probs(rprobs.size()), dqkv(qkv.size(), NAN);  // B must overwrite every element
    nn::attention_forward(qkv, out, probs, d, ex);
    nn::attention_backward(dout, qkv, probs, dqkv, d, ex);
    EXPECT_TRUE(all_close(out, rout, abs_tol, rel_tol));
    EXPECT_TRUE(all_close(probs, rprobs, 1e-6, rel_tol));
    EXPECT_TRUE(all_close(dqkv, rdqkv, abs_tol, rel_tol));
    if (ex == nullptr) {
      out1 = out, probs1 = probs, dqkv1 = dqkv;
    } else {  // split by (batch, head) pairs: every GEMM keeps its shape, so the bits do not change
      EXPECT_TRUE(bit_equal(out, out1));
      EXPECT_TRUE(bit_equal(probs, probs1));
      EXPECT_TRUE(bit_equal(dqkv, dqkv1));
    }
  }
  // Causality: a query never looks at a later key.
  for (std::size_t p = 0; p < d.batch * d.heads; ++p) {
    for (std::size_t i = 0; i < d.seq; ++i) {
      for (std::size_t j = i + 1; j < d.seq; ++j) {
        ASSERT_EQ(probs1[(p * d.seq + i) * d.seq + j], 0.0F);
      }
    }
  }
}

TEST(gelu, forward_and_backward_match_the_reference) {
  auto x = random_floats(5000, 41, 3.0);
  x[0] = 0.0F, x[1] = 12.0F, x[2] = -12.0F, x[3] = 1e-4F, x[4] = -40.0F, x[5] = 40.0F;
  const auto dy = random_floats(x.size(), 42);
  fvec y(x.size()), dx(x.size());
  nn::gelu_forward(x, y);
  nn::gelu_backward(dy, x, dx, false);
  dvec ry(x.size()), rdx(x.size());
  nn::ref::gelu_forward(to_double(x), ry);
  nn::ref::gelu_backward(to_double(dy), to_double(x), rdx);
  EXPECT_TRUE(all_close(y, ry, 1e-6, 1e-5));
  EXPECT_TRUE(all_close(dx, rdx, 1e-6, 1e-5));
  fvec y3(x.size()), dx3(x.size(), 2.0F);
  nn::gelu_forward(x, y3, &three_workers());
  nn::gelu_backward(dy, x, dx3, true, &three_workers());
  EXPECT_TRUE(bit_equal(y3, y));
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(dx3[i], 2.0F + dx[i]) << i;
  }
}

TEST(embedding, forward_and_w_match_the_reference_with_repeated_tokens) {
  const nn::embedding_dims d{.batch = 3, .seq = 7, .vocab = 5, .context = 9, .c = 70};
  const auto tokens = nn::test::random_ids(d.batch * d.seq, d.vocab, 51);  // 21 ids from 5: many repeats
  const auto wte = random_floats(d.vocab * d.c, 52);
  const auto wpe = random_floats(d.context * d.c, 53);
  const auto dy = random_floats(d.batch * d.seq * d.c, 54);
  dvec ry(dy.size()), rdwte(wte.size()), rdwpe(wpe.size());
  nn::ref::embedding_forward(tokens, to_double(wte), to_double(wpe), ry, d);
  nn::ref::embedding_backward_weight(tokens, to_double(dy), rdwte, rdwpe, d);
  fvec first;
  for (taskpipe::executor* ex : {static_cast<taskpipe::executor*>(nullptr), &three_workers()}) {
    fvec y(dy.size()), dwte(wte.size()), dwpe(wpe.size());
    nn::embedding_forward(tokens, wte, wpe, y, d, ex);
    nn::embedding_backward_weight(tokens, dy, dwte, dwpe, d, ex);
    EXPECT_TRUE(all_close(y, ry, abs_tol, rel_tol));
    EXPECT_TRUE(all_close(dwte, rdwte, abs_tol, rel_tol));
    EXPECT_TRUE(all_close(dwpe, rdwpe, abs_tol, rel_tol));
    if (ex == nullptr) {
      first = dwte;
    } else {
      EXPECT_TRUE(bit_equal(dwte, first));
    }
  }
  auto bad = tokens;
  bad[4] = -1;
  fvec y(dy.size());
  EXPECT_THROW(nn::embedding_forward(bad, wte, wpe, y, d), taskpipe::invalid_argument);
  EXPECT_THROW(nn::embedding_forward(tokens, wte, wpe, y, {.batch = 3, .seq = 10, .vocab = 5, .context = 9, .c = 70}),
               taskpipe::invalid_argument);
}

TEST(cross_entropy, loss_and_gradient_match_the_reference) {
  const std::size_t rows = 29;
  const std::size_t vocab = 77;
  const auto logits = random_floats(rows * vocab, 61, 4.0);
  const auto targets = nn::test::random_ids(rows, vocab, 62);
  const float scale = 1.0F / 29.0F;
  dvec rl = to_double(logits);
  const double rloss = nn::ref::softmax_cross_entropy(rl, targets, rows, vocab, scale);
  fvec l1 = logits;
  const double loss1 = nn::softmax_cross_entropy(l1, targets, rows, vocab, scale);
  EXPECT_NEAR(loss1, rloss, 1e-5 * rloss);
  EXPECT_TRUE(all_close(l1, rl, 1e-7, 1e-4));
  fvec l3 = logits;
  EXPECT_EQ(nn::softmax_cross_entropy(l3, targets, rows, vocab, scale, &three_workers()), loss1);
  EXPECT_TRUE(bit_equal(l3, l1));
  auto bad = targets;
  bad[3] = 77;
  fvec l4 = logits;
  EXPECT_THROW((void)nn::softmax_cross_entropy(l4, bad, rows, vocab, scale), taskpipe::invalid_argument);
}
