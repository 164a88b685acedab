#include "init.hpp"

#include <algorithm>
#include <utility>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/rng.hpp"

namespace taskpipe::nn::detail {

parameter make_parameter(std::string name, std::vector<std::size_t> shape, bool decay, memory_ledger* ledger) {
  parameter p;
  p.name = std::move(name);
  p.value = tensor(shape, memory_category::parameters, ledger);
  p.grad = tensor(std::move(shape), memory_category::gradients, ledger);
  p.decay = decay;
  return p;
}

void init_normal(parameter& p, std::uint64_t seed, double stddev) {
  rng r(derive_seed(seed, p.name));
  for (float& v : p.value.span()) {
    v = static_cast<float>(stddev * r.normal());
  }
}

void init_constant(parameter& p, float v) { std::fill(p.value.span().begin(), p.value.span().end(), v); }

tensor copy_of(const tensor& t, memory_category category, memory_ledger* ledger) {
  tensor c(t.shape(), category, ledger, uninitialized);
  std::copy(t.span().begin(), t.span().end(), c.span().begin());
  return c;
}

void expect_tensor(const tensor& t, std::size_t want, const std::string& layer, const char* what) {
  if (t.size() != want) {
    throw invalid_argument(layer + ": " + what + " has " + std::to_string(t.size()) + " floats, expected " +
                           std::to_string(want));
  }
}

}  // namespace taskpipe::nn::detail
