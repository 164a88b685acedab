// src/nn/init.hpp — building and initialising parameters, and the small tensor helpers the layers share (private).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "taskpipe/nn/parameter.hpp"
#include "taskpipe/nn/tensor.hpp"

namespace taskpipe::nn::detail {

/// A parameter named `name`: value (parameters) and gradient (gradients) of `shape`, both zero.
parameter make_parameter(std::string name, std::vector<std::size_t> shape, bool decay, memory_ledger* ledger);
/// value ~ N(0, stddev), drawn in order from the stream derive_seed(seed, p.name).
void init_normal(parameter& p, std::uint64_t seed, double stddev);
/// value = v everywhere.
void init_constant(parameter& p, float v);
/// A copy of `t` in `category`.
tensor copy_of(const tensor& t, memory_category category, memory_ledger* ledger);
/// Throws taskpipe::invalid_argument unless t holds `want` floats.
void expect_tensor(const tensor& t, std::size_t want, const std::string& layer, const char* what);

}  // namespace taskpipe::nn::detail
