// A replacement for the global operator new that fails on demand: `fail_nth_allocation(n)` makes the n-th
// allocation from now, on any thread, throw std::bad_alloc (once). Include it in exactly one file of a test binary of
// its own (it replaces operator new for the whole program).
#pragma once

#include <atomic>

namespace taskpipe::test {

inline std::atomic<long> allocations_until_failure{0};  // 0: never fail

/// Makes the n-th allocation from now throw std::bad_alloc; n = 0 disarms.
inline void fail_nth_allocation(long n) noexcept { allocations_until_failure.store(n); }

/// True when the armed failure has not happened yet (the call under test made fewer than n allocations).
inline bool failure_pending() noexcept { return allocations_until_failure.load() > 0; }

inline bool this_allocation_fails() noexcept {
  long left = allocations_until_failure.load(std::memory_order_relaxed);
  while (left > 0) {
    if (allocations_until_failure.compare_exchange_weak(left, left - 1)) {
      return left == 1;
    }
  }
  return false;
}

/// Refuses the armed allocation.
inline bool on_allocation() noexcept { return !this_allocation_fails(); }

}  // namespace taskpipe::test

#include "replaced_new.hpp"
