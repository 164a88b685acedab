// taskpipe/pp/sleep_kernels.hpp — stage callbacks that wait instead of computing, so that an 8-rank pipeline can be
// timed honestly on a 2-core machine: each F/I/W sleeps its cost (from `costs`) times `unit`, using no core.
//
// The sleeps aim at an absolute deadline and lower the thread's timer slack (Linux) so that per-action overshoot stays
// in the tens of microseconds. Throws `taskpipe::invalid_argument` on stages < 1 or a non-positive unit.
// Thread safety: the callbacks share no state.
#pragma once

#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/stage_runtime.hpp"

#include <chrono>
#include <vector>

namespace taskpipe::pp {

std::vector<stage_callbacks> sleep_kernels(const costs& c, int stages, std::chrono::duration<double> unit);

}  // namespace taskpipe::pp
