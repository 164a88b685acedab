// taskpipe/pp/detail/zb_heuristic.hpp — the Zero Bubble paper's automatic scheduling heuristic (its Section 3.1) for
// one stage per rank, and the greedy that builds its ZB-V (Section 6) for two chunks per rank in a V.
//
// Both play the pipeline forward action by action, tracking each rank's clock and memory (memory_units.hpp), and
// decide by the paper's rules: as many warm-up forwards as the memory limit allows and the first backward's round
// trip can hide; then one forward and one backward (I) per step, a W placed wherever it fits into a wait no longer
// than the worst rank's bubble so far, and a W whenever memory would overflow. They return nothing when a variant
// cannot fit the limit; callers validate what they get and fall back to a hand-built order otherwise.
#pragma once

#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/schedule.hpp"

#include <optional>
#include <vector>

namespace taskpipe::pp::detail {

using rank_orders = std::vector<std::vector<action>>;

struct zb_heuristic_plan {
  int ranks = 0;
  int microbatches = 0;
  costs planning;
  double memory_limit = 0;  ///< per rank, in M_B (memory_units.hpp)
};

/// One variant of the heuristic (the paper tries all eight and keeps the best): stage r is rank r.
struct zb_heuristic_variant {
  bool allow_bubble_before_first_b = false;  ///< warm-up forwards may overrun the first backward's arrival
  bool prioritize_b = false;                 ///< skip a forward when it would delay the next rank's backward
  bool no_bubble_greedy = true;              ///< fill a short wait with a W even when it makes the wait longer
};

std::optional<rank_orders> zb_heuristic(const zb_heuristic_plan& plan, const zb_heuristic_variant& variant);

/// The ZB-V greedy on v_placement(ranks); `memory_limit` in M_B (2 chunks of 1/2 each per micro-batch).
struct zb_v_variant {
  bool fill_forward_bubbles = true;
  bool fill_backward_bubbles = true;
};

std::optional<rank_orders> zb_v_greedy(const zb_heuristic_plan& plan, const zb_v_variant& variant);

}  // namespace taskpipe::pp::detail
