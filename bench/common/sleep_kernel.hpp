// The sleep kernel of the sleep_stages workload (a stage that waits 10 µs without using a CPU) and the calibration
// that gives the kernel's realised time on this machine, from which the ideal pipeline throughput is computed.
//
// Timer slack: Linux lets a timed sleep end up to the thread's timer slack late (50 µs by default) so that wake-ups
// can be batched; on the 2-core reference VM a 10 µs sleep took a median 76 µs with the default slack and 31 µs with
// 1 ns (2000 sleeps each, load average 5). `lower_timer_slack()` sets 1 ns on the calling thread, and every
// thread created afterwards inherits it (prctl(2): the slack is copied at clone), so calling it first thing in main,
// before any runtime starts a thread, gives every executor worker, oneTBB worker, pinned stage thread and calibration
// thread the same slack. It does not make a sleep exactly 10 µs: the kernel still needs time to take the timer
// interrupt and switch to the woken thread, hence the calibration.
//
// Calibration: `calibrate_sleep_ns(threads, calls)` runs the kernel `calls` times on each of `threads` plain threads
// at once (neither runtime's) and returns the mean time of one call: the kernel's realised time on this machine.
// Mean, not median: throughput adds up every call's time, tail included. Not thread-safe (one calibration at a time);
// throws std::system_error when a thread cannot start.
#pragma once

#include <sys/prctl.h>

#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

namespace taskpipe::bench {

inline constexpr std::chrono::microseconds sleep_kernel_nominal{10};

/// Returns the calling thread's timer slack after setting it to 1 ns (0 if the call failed).
inline unsigned long lower_timer_slack() noexcept {  // NOLINT(google-runtime-int): prctl's type
  if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) != 0) {
    return 0;
  }
  const int got = prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
  return got < 0 ? 0UL : static_cast<unsigned long>(got);  // NOLINT(google-runtime-int)
}

inline void sleep_kernel() { std::this_thread::sleep_for(sleep_kernel_nominal); }

/// Mean nanoseconds of one sleep_kernel() call while `threads` threads call it `calls` times each, concurrently.
inline double calibrate_sleep_ns(std::size_t threads, std::size_t calls) {
  std::vector<double> mean_ns(threads, 0.0);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (std::size_t k = 0; k < threads; ++k) {
    pool.emplace_back([&mean_ns, k, calls] {
      const auto b = std::chrono::steady_clock::now();
      for (std::size_t i = 0; i < calls; ++i) {
        sleep_kernel();
      }
      const std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - b;
      mean_ns[k] = d.count() / static_cast<double>(calls);
    });
  }
  for (auto& t : pool) {
    t.join();
  }
  double sum = 0.0;
  for (const double m : mean_ns) {
    sum += m;
  }
  return sum / static_cast<double>(threads);
}

}  // namespace taskpipe::bench
