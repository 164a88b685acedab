// taskpipe/nn/non_finite_error.hpp — the error raised when a NaN or an infinity appears in a layer's output.
//
// Contract: `gpt2::forward_backward` and `gpt2::loss` check each layer's output as it is produced and throw this at the
// first layer whose output holds a non-finite value, naming it ("embedding", "h.3", "head"). A trainer catches it to
// add the step number. It is a `taskpipe::error`, so the CLI prints its one line and exits 2.
#pragma once

#include <span>
#include <string>
#include <utility>

#include "taskpipe/error.hpp"

namespace taskpipe::nn {

class non_finite_error : public error {
 public:
  explicit non_finite_error(std::string layer)
      : error("non-finite value (NaN or inf) first appeared in the output of layer " + layer),
        m_layer(std::move(layer)) {}

  /// The name of the first layer whose output was not finite.
  [[nodiscard]] const std::string& layer() const noexcept { return m_layer; }

 private:
  std::string m_layer;
};

/// True when every value is finite (no NaN, no infinity). One vectorised pass: x·0 is 0 for finite x, NaN otherwise.
inline bool all_finite(std::span<const float> v) noexcept {
  float acc = 0.0F;
  for (const float x : v) {
    acc += x * 0.0F;
  }
  return acc == 0.0F;
}

}  // namespace taskpipe::nn
