// Validates a run's options against the chain and dispatches to the chosen strategy.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/pipeline/detail/engines.hpp"
#include "taskpipe/pipeline/pipeline.hpp"

namespace taskpipe::detail {
namespace {

// Each stage's busy time per item, for the next pinned run's placement; a run that finished no item keeps the last.
void remember_costs(chain& c, const pipeline_stats& s) {
  if (s.stages.size() != c.stages.size() || s.items == 0) {
    return;
  }
  std::vector<double> cost(s.stages.size(), 0.0);
  for (std::size_t i = 0; i < cost.size(); ++i) {
    const auto& st = s.stages[i];
    cost[i] = st.items == 0 ? 0.0 : static_cast<double>(st.busy.count()) / static_cast<double>(st.items);
  }
  c.measured_cost_ns = std::move(cost);
}

}  // namespace

pipeline_stats run_chain(executor& ex, chain& c, const pipeline_options& o) {
  if (o.max_in_flight == 0 || o.max_in_flight > max_in_flight_limit) {
    throw invalid_argument("pipeline_options.max_in_flight = " + std::to_string(o.max_in_flight) +
                           " is out of range; accepted: 1 to " + std::to_string(max_in_flight_limit));
  }
  if (o.pinned_width > pinned_width_limit) {
    throw invalid_argument("pipeline_options.pinned_width = " + std::to_string(o.pinned_width) +
                           " is out of range; accepted: 0 (the executor's worker count) to " +
                           std::to_string(pinned_width_limit));
  }
  if (o.pinned_threads > pinned_threads_limit) {
    throw invalid_argument("pipeline_options.pinned_threads = " + std::to_string(o.pinned_threads) +
                           " is out of range; accepted: 0 (the executor's worker count) to " +
                           std::to_string(pinned_threads_limit));
  }
  if (!o.stage_costs.empty() && o.stage_costs.size() != c.stages.size()) {
    throw invalid_argument("pipeline_options.stage_costs has " + std::to_string(o.stage_costs.size()) +
                           " values; accepted: none, or one per stage (" + std::to_string(c.stages.size()) + ")");
  }
  for (const double v : o.stage_costs) {
    if (!(v >= 0) || !std::isfinite(v)) {
      throw invalid_argument("pipeline_options.stage_costs holds " + std::to_string(v) +
                             "; accepted: finite costs >= 0");
    }
  }
  if (o.time_one_in == 0 || o.time_one_in > time_one_in_limit || (o.time_one_in & (o.time_one_in - 1)) != 0) {
    throw invalid_argument("pipeline_options.time_one_in = " + std::to_string(o.time_one_in) +
                           " is out of range; accepted: a power of two from 1 to " + std::to_string(time_one_in_limit));
  }
  if (c.stages.size() < 2) {
    throw invalid_argument("pipeline: a chain needs a source and a sink; it has " + std::to_string(c.stages.size()) +
                           " stage(s)");
  }
  pipeline_stats s;
  switch (o.strategy) {
    case execution_strategy::token:
      s = run_on_executor(ex, c, o, false);
      break;
    case execution_strategy::farm:
      s = run_on_executor(ex, c, o, true);
      break;
    case execution_strategy::pinned:
      s = run_pinned(ex, c, o);
      break;
    default:
      throw invalid_argument("pipeline_options.strategy = " + std::to_string(static_cast<int>(o.strategy)) +
                             " is out of range; accepted: token, pinned, farm");
  }
  remember_costs(c, s);
  return s;
}

}  // namespace taskpipe::detail
