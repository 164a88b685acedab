// A replacement for the global operator new that counts every allocation, on any thread: `allocations_so_far()`
// read before and after the code under test gives how many heap allocations it made. Include it in exactly one file
// of a test binary of its own (it replaces operator new for the whole program).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace taskpipe::test {

inline std::atomic<long> counted_allocations{0};

/// Heap allocations made by the program since it started.
inline long allocations_so_far() noexcept { return counted_allocations.load(); }

}  // namespace taskpipe::test

// The replacements pair malloc with free; GCC sees through the inlined operators and warns that free() meets a
// pointer from "operator new", which is exactly what replacing both is allowed to do.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  taskpipe::test::counted_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  taskpipe::test::counted_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) {
    return p;
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
