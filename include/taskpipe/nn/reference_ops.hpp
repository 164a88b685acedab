// taskpipe/nn/reference_ops.hpp — a plain double-precision reference beside every fast op (llm.c's habit).
//
// Each function here computes what its fast namesake in linear.hpp, layernorm.hpp, attention.hpp, elementwise.hpp,
// embedding.hpp and cross_entropy.hpp computes, with the same shapes and the same B/W split, in straightforward loops
// over doubles (std::tanh, std::exp; no BLAS, no tasks, no approximations). They exist to check the fast path tensor
// by tensor and, through finite differences, to check the backward formulas themselves. Slow by design: tiny shapes
// only. Accumulation as in the fast ops: W adds into dw/db; B overwrites dx. Sizes are not checked beyond what the
// loops read (callers are tests).
#pragma once

#include <cstdint>
#include <span>

#include "taskpipe/nn/attention.hpp"
#include "taskpipe/nn/embedding.hpp"
#include "taskpipe/nn/layernorm.hpp"
#include "taskpipe/nn/linear.hpp"

namespace taskpipe::nn::ref {

void linear_forward(std::span<const double> x, std::span<const double> w, std::span<const double> b,
                    std::span<double> y, linear_dims d);
void linear_backward_input(std::span<const double> dy, std::span<const double> w, std::span<double> dx, linear_dims d);
void linear_backward_weight(std::span<const double> x, std::span<const double> dy, std::span<double> dw,
                            std::span<double> db, linear_dims d);

void tied_head_forward(std::span<const double> x, std::span<const double> wte, std::span<double> logits, linear_dims d);
void tied_head_backward_input(std::span<const double> dlogits, std::span<const double> wte, std::span<double> dx,
                              linear_dims d);
void tied_head_backward_weight(std::span<const double> x, std::span<const double> dlogits, std::span<double> dwte,
                               linear_dims d);

void layernorm_forward(std::span<const double> x, std::span<const double> weight, std::span<const double> bias,
                       std::span<double> y, std::span<double> mean, std::span<double> rstd, layernorm_dims d);
void layernorm_backward_input(std::span<const double> dy, std::span<const double> x, std::span<const double> mean,
                              std::span<const double> rstd, std::span<const double> weight, std::span<double> dx,
                              layernorm_dims d);
void layernorm_backward_weight(std::span<const double> dy, std::span<const double> x, std::span<const double> mean,
                               std::span<const double> rstd, std::span<double> dw, std::span<double> db,
                               layernorm_dims d);

void attention_forward(std::span<const double> qkv, std::span<double> out, std::span<double> probs, attention_dims d);
void attention_backward(std::span<const double> dout, std::span<const double> qkv, std::span<const double> probs,
                        std::span<double> dqkv, attention_dims d);

void gelu_forward(std::span<const double> x, std::span<double> y);
void gelu_backward(std::span<const double> dy, std::span<const double> x, std::span<double> dx);

void embedding_forward(std::span<const std::int32_t> tokens, std::span<const double> wte, std::span<const double> wpe,
                       std::span<double> y, embedding_dims d);
void embedding_backward_weight(std::span<const std::int32_t> tokens, std::span<const double> dy, std::span<double> dwte,
                               std::span<double> dwpe, embedding_dims d);

/// Overwrites logits with grad_scale · (softmax - onehot); returns Σ_rows cross-entropy.
double softmax_cross_entropy(std::span<double> logits, std::span<const std::int32_t> targets, std::size_t rows,
                             std::size_t vocab, double grad_scale);

}  // namespace taskpipe::nn::ref
