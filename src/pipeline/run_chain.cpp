// Validates a run's options against the chain and dispatches to the chosen strategy.
#include <string>

#include "taskpipe/error.hpp"
#include "taskpipe/pipeline/detail/engines.hpp"
#include "taskpipe/pipeline/pipeline.hpp"

namespace taskpipe::detail {

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
  if (o.time_one_in == 0 || o.time_one_in > time_one_in_limit || (o.time_one_in & (o.time_one_in - 1)) != 0) {
    throw invalid_argument("pipeline_options.time_one_in = " + std::to_string(o.time_one_in) +
                           " is out of range; accepted: a power of two from 1 to " + std::to_string(time_one_in_limit));
  }
  if (c.stages.size() < 2) {
    throw invalid_argument("pipeline: a chain needs a source and a sink; it has " + std::to_string(c.stages.size()) +
                           " stage(s)");
  }
  switch (o.strategy) {
    case execution_strategy::token:
      return run_on_executor(ex, c, o, false);
    case execution_strategy::farm:
      return run_on_executor(ex, c, o, true);
    case execution_strategy::pinned:
      return run_pinned(ex, c, o);
  }
  throw invalid_argument("pipeline_options.strategy = " + std::to_string(static_cast<int>(o.strategy)) +
                         " is out of range; accepted: token, pinned, farm");
}

}  // namespace taskpipe::detail
