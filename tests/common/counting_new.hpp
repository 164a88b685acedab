// A replacement for the global operator new that counts every allocation, on any thread: `allocations_so_far()`
// read before and after the code under test gives how many heap allocations it made. Include it in exactly one file
// of a test binary of its own (it replaces operator new for the whole program).
#pragma once

#include <atomic>

namespace taskpipe::test {

inline std::atomic<long> counted_allocations{0};

/// Heap allocations made by the program since it started.
inline long allocations_so_far() noexcept { return counted_allocations.load(); }

/// Counts the allocation; never refuses it.
inline bool on_allocation() noexcept {
  counted_allocations.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace taskpipe::test

#include "replaced_new.hpp"
