// taskpipe/pp/costs.hpp — the cost model the simulator and the zero-bubble generators use.
//
// Times are in arbitrary units (the simulator's timeline uses them as-is; `microseconds_per_unit` maps them to a
// trace's clock). A stage's F, I and W times may differ by stage; a full backward B costs b + w. `comm` is added to
// every transfer between two ranks (none between two stages on one rank).
//
// Activation memory is counted in two states per micro-batch and stage: from the start of its F until its I (or fused
// B) finishes it holds the stage's `activation_bytes`; from then until its W finishes, `w_bytes`. In the Zero Bubble
// paper's accounting `w_bytes` is the part of the activation the weight gradient still needs, the inputs of the
// stage's matmuls: its Table 1 puts that at 32bsh of the 34bsh + 5as^2b a transformer layer holds (its code:
// mem_w = -32h), so the I frees the attention scores and little else; ZB-H1 still keeps 1F1B's peak because its
// first rank runs each W right after its I. `w_bytes` may also exceed `activation_bytes`: an I that keeps more for
// its W than it frees (taskpipe's GPT-2 blocks keep their matmuls' output gradients) makes the micro-batch grow, and
// a fused B then holds `w_bytes` from the end of its I part (its start + b) until it finishes. `w_bytes` is 0 by
// default; set it to activation_bytes to count a whole activation until W.
// Working memory: the two states above are what a micro-batch holds between its passes. While a pass runs it holds
// more for a while (the output it has not yet sent, the gradient of its input, a split backward's temporaries,
// attention's scratch): `f_work_bytes`, `b_work_bytes` and `w_work_bytes` are the most a stage's F, I and W hold at
// once above what the simulator already counts during that pass (for F: activation_bytes, added at its start; for I
// and W: what the micro-batch held before it). The simulator adds each from its pass's start to its finish (a fused
// B: the I's from its start until its I part ends, then the W's). All 0 by default: only the ends of passes count.
// Thread safety: a value type. `at` and `validate_costs` throw `taskpipe::invalid_argument`.
#pragma once

#include "taskpipe/error.hpp"

#include "taskpipe/pp/action.hpp"

#include <vector>

namespace taskpipe::pp {

struct stage_cost {
  double f = 1;                 ///< forward
  double b = 1;                 ///< backward for the input gradient (I)
  double w = 1;                 ///< backward for the weight gradient (W)
  double activation_bytes = 0;  ///< held per micro-batch from F until I (or B)
  double w_bytes = 0;           ///< held after I until W: usually the part of activation_bytes W needs
  double f_work_bytes = 0;      ///< held in addition while an F runs
  double b_work_bytes = 0;      ///< held in addition while an I (or a fused B's I part) runs
  double w_work_bytes = 0;      ///< held in addition while a W (or a fused B's W part) runs
};

struct uniform_costs {
  double f = 1;
  double b = 1;
  double w = 1;
  double comm = 0;
  double activation_bytes = 0;
  double w_bytes = 0;
  double f_work_bytes = 0;
  double b_work_bytes = 0;
  double w_work_bytes = 0;
};

struct costs {
  std::vector<stage_cost> per_stage;  ///< one entry per stage, or a single entry that applies to every stage
  double comm = 0;

  static costs uniform(const uniform_costs& c);

  /// The cost of `stage`; throws when `per_stage` has neither one entry nor an entry for that stage.
  const stage_cost& at(int stage) const;
  /// How long `a` runs: f, b, w or b + w.
  double duration(const action& a) const;
};

/// Throws when a time or size is negative or not finite, or when `per_stage` is empty.
void validate_costs(const costs& c);

}  // namespace taskpipe::pp
