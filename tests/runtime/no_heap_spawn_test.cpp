// White-box: spawning from a worker does not touch the heap once the pools are warm. This binary replaces the global
// operator new to count allocations, so it is built on its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "common/fork_join.hpp"

namespace {
std::atomic<long> allocations{0};
}  // namespace

// The replacements below pair malloc with free; GCC sees through the inlined operators and warns that free()
// meets a pointer from "operator new", which is exactly what replacing both is allowed to do.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  allocations.fetch_add(1, std::memory_order_relaxed);
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

namespace {

// Runs fib(n) on a worker and returns how many heap allocations happened while it ran.
long allocations_during_fib(taskpipe::executor& ex, int n, long& result) {
  return ex
      .async([&] {
        const long before = allocations.load();
        result = taskpipe::test::fib(ex, n);
        return allocations.load() - before;
      })
      .get();
}

TEST(no_heap_spawn, a_warm_single_worker_spawns_without_allocating) {
  taskpipe::executor ex{{.workers = 1}};
  long result = 0;
  (void)allocations_during_fib(ex, 22, result);  // warm the pool and the deque
  const long allocs = allocations_during_fib(ex, 22, result);
  EXPECT_EQ(result, taskpipe::test::serial_fib(22));
  EXPECT_EQ(allocs, 0) << "fib(22) spawns 28656 tasks";
}

TEST(no_heap_spawn, with_stealing_allocations_stay_amortised) {
  taskpipe::executor ex{{.workers = 2}};
  long result = 0;
  (void)allocations_during_fib(ex, 22, result);
  const long allocs = allocations_during_fib(ex, 22, result);
  EXPECT_EQ(result, taskpipe::test::serial_fib(22));
  // Blocks migrate between workers and are rebalanced through the depot a batch (256 blocks) at a time.
  EXPECT_LE(allocs * 256, 28656) << allocs << " allocations for 28656 spawns";
}

}  // namespace
