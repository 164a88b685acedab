// taskpipe/pp/detail/dependencies.hpp — what an action waits for, shared by the validator, the simulator, the
// zero-bubble list scheduler and the stage runtime so that all four agree on one dependency rule.
#pragma once

#include "taskpipe/pp/action.hpp"

#include <array>
#include <cstddef>

namespace taskpipe::pp::detail {

/// A result an action waits for: the forward of `stage` (grad = false), or the input gradient that the I or B of
/// `stage` produced (grad = true), for `microbatch`.
struct dependency {
  int stage = 0;
  bool grad = false;
  int microbatch = 0;
};

struct dependency_list {
  std::array<dependency, 2> items{};
  int count = 0;
};

/// F(s) needs F(s-1); I/B(s) need F(s) and the gradient of s+1; W(s) needs the I of s.
inline dependency_list dependencies_of(const action& a, int stages) noexcept {
  dependency_list out;
  auto add = [&out](dependency d) { out.items[static_cast<std::size_t>(out.count++)] = d; };
  switch (a.kind) {
    case action_kind::forward:
      if (a.stage > 0) {
        add({a.stage - 1, false, a.microbatch});
      }
      break;
    case action_kind::backward_input:
    case action_kind::backward_full:
      add({a.stage, false, a.microbatch});
      if (a.stage + 1 < stages) {
        add({a.stage + 1, true, a.microbatch});
      }
      break;
    case action_kind::backward_weight:
      add({a.stage, true, a.microbatch});
      break;
  }
  return out;
}

/// Dense index of results, for flat arrays of "done" flags or finish times.
inline std::size_t result_key(int stage, bool grad, int microbatch, int microbatches) noexcept {
  return (static_cast<std::size_t>(stage) * 2 + (grad ? 1U : 0U)) * static_cast<std::size_t>(microbatches) +
         static_cast<std::size_t>(microbatch);
}

/// The result an action produces, if any (W produces none).
inline bool produces(const action& a, dependency& out) noexcept {
  if (a.kind == action_kind::backward_weight) {
    return false;
  }
  out = {a.stage, a.kind != action_kind::forward, a.microbatch};
  return true;
}

}  // namespace taskpipe::pp::detail
