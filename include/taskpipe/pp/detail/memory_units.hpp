// taskpipe/pp/detail/memory_units.hpp — activation memory in the Zero Bubble paper's unit, shared by the simulator
// and the zero-bubble planners so that a limit means the same thing to both.
//
// The unit is M_B: one micro-batch's activations of one rank's layers. An F holds its stage's activation; the I (or B)
// frees all of it but the part the W still needs (or grows to it, when the I keeps more than it frees: costs.hpp),
// which the W frees. The paper's Table 1 counts that W-held part as
// 32bsh of the 34bsh + 5as^2b a transformer layer keeps (its code: mem_w = -32h, mem_f = 34h + 5as). A stage's weights
// come from its costs: activation_bytes and w_bytes when activation_bytes > 0; otherwise 1 and 1 (a W then holds the
// whole activation, the safe count when nothing is known).
#pragma once

#include "taskpipe/pp/costs.hpp"

namespace taskpipe::pp::detail {

struct activation_weight {
  double held = 1;    ///< from the F's start until the I (or B) finishes
  double w_part = 1;  ///< what the micro-batch holds from the I until the W finishes (may exceed `held`)
};

inline activation_weight weight_of(const stage_cost& c) noexcept {
  if (c.activation_bytes > 0) {
    return {c.activation_bytes, c.w_bytes};
  }
  return {1, 1};
}

}  // namespace taskpipe::pp::detail
