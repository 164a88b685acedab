#include "taskpipe/pp/sleep_kernels.hpp"

#include "taskpipe/error.hpp"

#include <thread>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace taskpipe::pp {

namespace {

using clock = std::chrono::steady_clock;

void sleep_for_units(double units, std::chrono::duration<double> unit) {
#if defined(__linux__)
  // The default 50 us timer slack would add up to a few percent over a pipeline's critical path.
  thread_local const bool tight = [] { return prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0; }();
  (void)tight;
#endif
  const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(unit * units);
  std::this_thread::sleep_until(deadline);
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
