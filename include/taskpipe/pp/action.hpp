// taskpipe/pp/action.hpp — one step of a model-pipeline schedule: run a stage's forward or backward on a micro-batch.
//
// Contract: plain values, no shared state (thread safe as any value type). The text form is the notation of
// torch.distributed.pipelining: `<stage><kind><micro-batch>`, kind F (forward), I (backward for the input gradient),
// W (backward for the weight gradient), B (full backward = I then W), e.g. `2F0`, `1I3`, `0W1`, `3B2`.
// `parse_action` throws `taskpipe::invalid_argument` naming the bad text and the accepted form.
#pragma once

#include "taskpipe/error.hpp"

#include <string>
#include <string_view>

namespace taskpipe::pp {

enum class action_kind : unsigned char {
  forward,          ///< F: consumes the previous stage's activation, produces this stage's
  backward_input,   ///< I: consumes the next stage's gradient, produces the gradient for the previous stage
  backward_weight,  ///< W: the weight gradient; needs the I of the same stage and micro-batch, sends nothing
  backward_full,    ///< B: I and W fused, as GPipe and 1F1B run them
};

/// The kind's letter in torch's notation: F, I, W or B.
char kind_letter(action_kind kind) noexcept;

struct action {
  int stage = 0;
  action_kind kind = action_kind::forward;
  int microbatch = 0;

  friend bool operator==(const action&, const action&) = default;
};

/// `action{2, forward, 0}` -> "2F0".
std::string to_string(const action& a);

/// "2F0" -> `action{2, forward, 0}`. Surrounding blanks are ignored. Throws `taskpipe::invalid_argument`.
action parse_action(std::string_view text);

/// True for the kinds that produce the gradient sent to the previous stage (I and B).
constexpr bool produces_input_grad(action_kind kind) noexcept {
  return kind == action_kind::backward_input || kind == action_kind::backward_full;
}

}  // namespace taskpipe::pp
