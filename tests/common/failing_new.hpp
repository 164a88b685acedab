// A replacement for the global operator new that fails on demand: `fail_nth_allocation(n)` makes the n-th
// allocation from now, on any thread, throw std::bad_alloc (once). Include it in exactly one file of a test binary of
// its own (it replaces operator new for the whole program).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

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

}  // namespace taskpipe::test

// The replacements pair malloc with free; GCC sees through the inlined operators and warns that free() meets a
// pointer from "operator new", which is exactly what replacing both is allowed to do.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  if (!taskpipe::test::this_allocation_fails()) {
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
      return p;
    }
  }
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  const auto a = static_cast<std::size_t>(align);
  if (!taskpipe::test::this_allocation_fails()) {
    if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) {
      return p;
    }
  }
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*size*/, std::align_val_t /*align*/) noexcept { std::free(p); }
