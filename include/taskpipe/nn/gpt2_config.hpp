// taskpipe/nn/gpt2_config.hpp — the sizes of a GPT-2-architecture model, their accepted ranges, and named presets.
//
// Contract: a `gpt2_config` is a plain value; `validate()` throws `taskpipe::invalid_argument` naming the first bad
// field, its value and the accepted range (or rule). Accepted: vocab in [2, 1048576], context in [1, 8192], embd in
// [1, 8192], layers in [1, 256], heads in [1, embd] and dividing embd. Everything that builds a model validates first.
// `preset(name)` returns "tiny", "small" (the reference configuration: d 256, 6 layers, 8 heads, context 128) or
// "deep" (small with 12 layers) and throws `taskpipe::invalid_argument` listing the presets for any other name.
// Thread safety: as a value type.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace taskpipe::nn {

struct gpt2_config {
  int vocab = 256;    ///< byte-level by default
  int context = 128;  ///< n_positions: the longest sequence; wpe is [context, embd]
  int embd = 256;     ///< d, the width of the residual stream
  int layers = 6;     ///< n_layer
  int heads = 8;      ///< n_head; head_dim = embd / heads

  static constexpr int max_vocab = 1 << 20;
  static constexpr int max_context = 8192;
  static constexpr int max_embd = 8192;
  static constexpr int max_layers = 256;

  void validate() const;

  [[nodiscard]] std::size_t head_dim() const noexcept { return static_cast<std::size_t>(embd / heads); }
  /// The number of trainable floats (wte counted once: the LM head is tied to it).
  [[nodiscard]] std::size_t parameter_count() const noexcept;
  /// "vocab 256, context 128, embd 256, layers 6, heads 8".
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const gpt2_config&, const gpt2_config&) = default;
};

/// "tiny" (context 64, embd 64, 2 layers, 4 heads), "small" (context 128, embd 256, 6 layers, 8 heads), "deep"
/// (small with 12 layers); all byte-level (vocab 256).
gpt2_config preset(std::string_view name);

}  // namespace taskpipe::nn
