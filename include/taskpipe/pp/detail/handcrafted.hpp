// taskpipe/pp/detail/handcrafted.hpp — the hand-built orders: fixed formulas in p, m and the rank, independent of
// costs, so they always exist and always validate (the generators' tests check every one on a grid).
#pragma once

#include "taskpipe/pp/action.hpp"

#include <vector>

namespace taskpipe::pp::detail {

using rank_orders = std::vector<std::vector<action>>;

/// One stage per rank, 1F1B's skeleton: rank r runs `warmup(r)` forwards, then one F and one I per step, and starts
/// running the W of its k-th backward right after it once k >= w_delay(r); the W's left over end the rank's list.
/// ZB-H1 is warmup p - r - 1, w_delay r; ZB-H2 warmup 2(p - r - 1), w_delay 2r (the Zero Bubble paper's Figure 3).
rank_orders delayed_w_order(int ranks, int microbatches, const std::vector<int>& warmup,
                            const std::vector<int>& w_delay);

/// The Zero Bubble paper's hand-built ZB-V (its Figure 8, as torch's ScheduleZBVZeroBubble lays it out) on
/// v_placement(ranks); zero bubble when F = B = W.
rank_orders zb_v_hand_order(int ranks, int microbatches);

/// GPipe along the V: every chunk-0 forward, every chunk-1 forward, then the backwards in reverse. Always valid; the
/// fallback of last resort for zb-v.
rank_orders v_gpipe_order(int ranks, int microbatches);

/// DeepSeek's DualPipe in V form, as torch's ScheduleDualPipeV orders it, on v_placement(ranks): eight phases per
/// rank, an overlapped forward-and-backward pair written as its F then its full B. Needs microbatches >= 2 ranks.
rank_orders dualpipe_v_order(int ranks, int microbatches);

}  // namespace taskpipe::pp::detail
