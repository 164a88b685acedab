// taskpipe/pp/detail/zb_scheduler.hpp — the list scheduler behind the zero-bubble generators.
//
// It plays the pipeline forward in simulated time: whenever a rank is free it runs, in order of preference, a ready
// I (the critical path), a ready F if the rank is under both its limits (activations until I, activations until W),
// else a pending W to fill the bubble (with `w_only_if_it_fits`, only when the W ends before the next known arrival, so
// it never delays a B). It returns nothing when it can make no more progress (it can, on costs it was not built for:
// a zero-time forward, uneven stages); the generators then fall back to a hand-built order.
#pragma once

#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/schedule.hpp"

#include <optional>
#include <vector>

namespace taskpipe::pp::detail {

struct zb_plan {
  int ranks = 0;
  int microbatches = 0;
  std::vector<int> stage_rank;
  std::vector<int> memory_limit;   ///< per rank, activations held from F until W; each >= 1
  std::vector<int> forward_limit;  ///< per rank, activations held from F until I; each >= 1
  costs planning;
  bool w_only_if_it_fits = false;
};

std::optional<std::vector<std::vector<action>>> zb_list_schedule(const zb_plan& plan);

}  // namespace taskpipe::pp::detail
