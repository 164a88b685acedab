// taskpipe/verdict/synthetic_chain.hpp — a runnable pipeline that does what a chain_workload describes.
//
// Each stage burns CPU (a dependent integer chain, not a sleep, and a fixed amount of work rather than a wall-clock
// deadline, so a preempted thread still owes its work) for a time drawn per item from a log-normal law with the
// stage's mean and spread; the draw depends only on the item's sequence number and the stage, so every strategy runs
// exactly the same work. A stage with state owns `state_bytes` and reads and writes up to 256 cache lines of it per
// item; every item carries a payload of the `item_bytes` its last stage declared. The sink checks that items arrive
// in source order when it is serial_in_order, and counts them.
// Thread safety: one run at a time per pipeline built here; the work calibration is thread-safe.
#pragma once

#include <cstdint>

#include "taskpipe/pipeline/pipeline.hpp"
#include "taskpipe/verdict/chain_workload.hpp"

namespace taskpipe::verdict {

/// Builds the pipeline on `ex` with `options`. Throws `taskpipe::invalid_argument` on an invalid workload.
runnable_pipeline make_synthetic_pipeline(executor& ex, const chain_workload& w, const pipeline_options& options);

}  // namespace taskpipe::verdict
