// taskpipe/nn.hpp — the neural-net layer in one include (link taskpipe::nn). Kept apart from taskpipe/taskpipe.hpp,
// which is the runtime's umbrella and must not pull in anything that needs BLAS.
#pragma once

#include "taskpipe/nn/attention.hpp"
#include "taskpipe/nn/block_layer.hpp"
#include "taskpipe/nn/cross_entropy.hpp"
#include "taskpipe/nn/elementwise.hpp"
#include "taskpipe/nn/embedding.hpp"
#include "taskpipe/nn/embedding_layer.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/nn/head_layer.hpp"
#include "taskpipe/nn/layer.hpp"
#include "taskpipe/nn/layernorm.hpp"
#include "taskpipe/nn/linear.hpp"
#include "taskpipe/nn/memory.hpp"
#include "taskpipe/nn/non_finite_error.hpp"
#include "taskpipe/nn/parameter.hpp"
#include "taskpipe/nn/reference_ops.hpp"
#include "taskpipe/nn/rng.hpp"
#include "taskpipe/nn/tensor.hpp"
