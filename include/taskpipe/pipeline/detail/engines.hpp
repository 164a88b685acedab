// detail/engines.hpp — the entry points of the three execution strategies (src/pipeline/*_engine.cpp).
//
// Each runs the chain to the end, destroys any item left behind, and rethrows the first exception a stage threw.
#pragma once

#include "taskpipe/pipeline/detail/stage.hpp"
#include "taskpipe/pipeline/pipeline_options.hpp"
#include "taskpipe/pipeline/pipeline_stats.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace taskpipe::detail {

/// `token` and `farm` (farm == true): the chain's stages as tasks on the executor.
pipeline_stats run_on_executor(executor& ex, chain& c, const pipeline_options& o, bool farm);
/// `pinned`: runs of stages on a fixed budget of threads of its own (detail/pinned_placement.hpp), bounded queues
/// between them.
pipeline_stats run_pinned(executor& ex, chain& c, const pipeline_options& o);

}  // namespace taskpipe::detail
