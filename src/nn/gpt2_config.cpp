#include "taskpipe/nn/gpt2_config.hpp"

#include "taskpipe/error.hpp"

namespace taskpipe::nn {
namespace {

void check_range(std::string_view field, int value, int lo, int hi) {
  if (value < lo || value > hi) {
    throw invalid_argument("gpt2_config: " + std::string(field) + " = " + std::to_string(value) + " is out of range [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

}  // namespace

void gpt2_config::validate() const {
  check_range("vocab", vocab, 2, max_vocab);
  check_range("context", context, 1, max_context);
  check_range("embd", embd, 1, max_embd);
  check_range("layers", layers, 1, max_layers);
  check_range("heads", heads, 1, embd);
  if (embd % heads != 0) {
    throw invalid_argument("gpt2_config: heads = " + std::to_string(heads) + " does not divide embd = " +
                           std::to_string(embd) + " (each head gets embd / heads channels)");
  }
}

std::size_t gpt2_config::parameter_count() const noexcept {
  const auto v = static_cast<std::size_t>(vocab);
  const auto t = static_cast<std::size_t>(context);
  const auto d = static_cast<std::size_t>(embd);
  const std::size_t per_block =
      2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
  return v * d + t * d + static_cast<std::size_t>(layers) * per_block + 2 * d;
}

std::string gpt2_config::to_string() const {
  return "vocab " + std::to_string(vocab) + ", context " + std::to_string(context) + ", embd " + std::to_string(embd) +
         ", layers " + std::to_string(layers) + ", heads " + std::to_string(heads);
}

gpt2_config preset(std::string_view name) {
  if (name == "tiny") {
    return {.vocab = 256, .context = 64, .embd = 64, .layers = 2, .heads = 4};
  }
  if (name == "small") {
    return {.vocab = 256, .context = 128, .embd = 256, .layers = 6, .heads = 8};
  }
  if (name == "deep") {
    return {.vocab = 256, .context = 128, .embd = 256, .layers = 12, .heads = 8};
  }
  throw invalid_argument("unknown model preset '" + std::string(name) + "' (presets: tiny, small, deep)");
}

}  // namespace taskpipe::nn
