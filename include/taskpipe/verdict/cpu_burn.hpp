// taskpipe/verdict/cpu_burn.hpp — CPU work of a known size, and how many cores the machine gives right now.
//
// `burn_cpu` runs a dependent integer chain (it cannot be vectorised or skipped) for a number of iterations
// calibrated once per process to take `us` microseconds on an idle core: a fixed amount of work, not a deadline, so
// a preempted thread still owes all of it. `effective_cores` starts `threads` threads that each burn the same work and
// returns how many threads' worth of it the machine did per unit of time (2.0 on two idle cores; less when other
// processes hold cores). Thread safety: both may be called from any thread.
#pragma once

#include <cstddef>

namespace taskpipe::verdict {

void burn_cpu(double us) noexcept;

/// Measured parallel capacity for `threads` busy threads, between about 0 and `threads`: the best of three runs of
/// 20 ms of work per thread, about 60 ms in all.
double effective_cores(std::size_t threads);

}  // namespace taskpipe::verdict
