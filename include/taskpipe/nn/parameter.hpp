// taskpipe/nn/parameter.hpp — a trainable tensor, its gradient, and the name it has in a checkpoint.
//
// Contract: the layer that owns a parameter owns its value and gradient tensors (same shape; the value in the
// `parameters` category, the gradient in `gradients`). `name` is the Hugging Face GPT-2 name ("wte.weight",
// "h.3.attn.c_attn.weight", ...), so checkpoints carry the ecosystem's names. `decay` says whether AdamW applies
// weight decay to it (2-D weights yes; biases, LayerNorm parameters no). The optimizer keeps its own state per
// parameter; the tied LM head has no parameter of its own (it reads `wte.weight`). Thread safety: as a value type.
#pragma once

#include "taskpipe/nn/tensor.hpp"

#include <string>

namespace taskpipe::nn {

struct parameter {
  std::string name;
  tensor value;
  tensor grad;
  bool decay = false;
};

}  // namespace taskpipe::nn
