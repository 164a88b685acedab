// taskpipe/pp/sleep_kernels.hpp — stage callbacks that wait instead of computing, so that an 8-rank pipeline can be
// timed honestly on a 2-core machine: each F/I/W sleeps its cost (from `costs`) times `unit`, using no core.
//
// Accuracy (the executor-fidelity benchmark compares measured and simulated makespans, bench/pp_fidelity.cpp):
//   - each sleep is an absolute clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) on Linux, so a preemption between
//     reading the clock and sleeping does not lengthen it;
//   - the calling thread's timer slack is set to 1 ns on its first sleep (prctl PR_SET_TIMERSLACK; Linux's default
//     of 50 us would otherwise be added to every action) and stays so for the thread's life;
//   - a call that starts within 20 us of the same thread's previous wake-up (a fused B's I then W, or an action whose
//     input was already there) is timed from the previous deadline, so wake-up overshoot does not accumulate along
//     a rank's back-to-back actions. Back-to-back calls together never sleep less than the sum of their times.
// No kernel spins: a sleeping rank uses no core. Throws `taskpipe::invalid_argument` on stages < 1 or a non-positive
// unit. Thread safety: the callbacks share no state.
#pragma once

#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/stage_runtime.hpp"

#include <chrono>
#include <vector>

namespace taskpipe::pp {

std::vector<stage_callbacks> sleep_kernels(const costs& c, int stages, std::chrono::duration<double> unit);

}  // namespace taskpipe::pp
