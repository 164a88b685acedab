#include "taskpipe/pp/sleep_kernels.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/pp/detail/sleep_chain.hpp"

#include <cerrno>
#include <ctime>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace taskpipe::pp {

namespace {

using clock = std::chrono::steady_clock;

void sleep_until(clock::time_point deadline) {
#if defined(__linux__)
  // libstdc++'s steady_clock is CLOCK_MONOTONIC; an absolute clock_nanosleep is not lengthened by a preemption
  // between reading the clock and going to sleep, as a relative one would be.
  const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch());
  timespec at{};
  at.tv_sec = static_cast<time_t>(since_epoch.count() / 1'000'000'000);
  at.tv_nsec = static_cast<long>(since_epoch.count() % 1'000'000'000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
#else
  std::this_thread::sleep_until(deadline);
#endif
}

void sleep_for_units(double units, std::chrono::duration<double> unit) {
#if defined(__linux__)
  // Linux lets a timer fire up to the thread's timer slack late, 50 us by default; over a pipeline's critical path of
  // hundreds of actions that alone is a few percent. 1 ns asks for the timer's own resolution. It is per thread and
  // lasts for the thread's life, so it is set once per rank thread, on its first sleep.
  thread_local const bool tight = [] { return prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0; }();
  (void)tight;
#endif
  thread_local detail::sleep_chain chain;
  const clock::time_point start = chain.start_of(clock::now());
  const clock::time_point deadline = start + std::chrono::duration_cast<clock::duration>(unit * units);
  sleep_until(deadline);
  chain.deadline = deadline;
  chain.woke = clock::now();
  chain.started = true;
}

}  // namespace

std::vector<stage_callbacks> sleep_kernels(const costs& c, int stages, std::chrono::duration<double> unit) {
  if (stages < 1) {
    throw invalid_argument("sleep_kernels: stages = " + std::to_string(stages) + ": must be >= 1");
  }
  if (unit.count() <= 0) {
    throw invalid_argument("sleep_kernels: the time unit must be > 0 seconds");
  }
  validate_costs(c);
  std::vector<stage_callbacks> out;
  for (int s = 0; s < stages; ++s) {
    const stage_cost cost = c.at(s);
    stage_callbacks cb;
    cb.forward = [cost, unit](int, const payload&) {
      sleep_for_units(cost.f, unit);
      return payload{};
    };
    cb.backward_input = [cost, unit](int, const payload&) {
      sleep_for_units(cost.b, unit);
      return payload{};
    };
    cb.backward_weight = [cost, unit](int) { sleep_for_units(cost.w, unit); };
    out.push_back(std::move(cb));
  }
  return out;
}

}  // namespace taskpipe::pp
