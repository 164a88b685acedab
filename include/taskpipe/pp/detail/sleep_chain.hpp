// taskpipe/pp/detail/sleep_chain.hpp — where a sleep kernel's call is timed from, kept apart from the sleeping so that
// the rule can be tested without a clock.
//
// A call that starts within `back_to_back` of the same thread's previous wake-up is taken to follow it directly (a
// fused B's I then W, or an action whose input was already there) and is timed from the previous deadline, so that
// sleep's wake-up overshoot is not added again. Any other call (the thread blocked in between, waiting for an input)
// is timed from its own start; at worst a wait shorter than the window is absorbed. One per thread; not shared.
#pragma once

#include <chrono>

namespace taskpipe::pp::detail {

struct sleep_chain {
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::microseconds back_to_back{20};

  clock::time_point deadline{};  ///< the previous sleep's deadline
  clock::time_point woke{};      ///< when the previous sleep returned
  bool started = false;

  clock::time_point start_of(clock::time_point now) const noexcept {
    return started && now - woke < back_to_back && deadline <= now ? deadline : now;
  }
};

}  // namespace taskpipe::pp::detail
