// White-box: spawning from a worker does not touch the heap once the pools are warm. This binary replaces the global
// operator new to count allocations, so it is built on its own.
#include <gtest/gtest.h>

#include <memory>

#include "common/counting_new.hpp"
#include "common/fork_join.hpp"

namespace {

// Runs fib(n) on a worker and returns how many heap allocations happened while it ran.
long allocations_during_fib(taskpipe::executor& ex, int n, long& result) {
  return ex
      .async([&] {
        const long before = taskpipe::test::allocations_so_far();
        result = taskpipe::test::fib(ex, n);
        return taskpipe::test::allocations_so_far() - before;
      })
      .get();
}

std::unique_ptr<long> kept;  // escapes, so the allocation below cannot be elided

// The zero counts below mean something only if the counter sees allocations at all.
TEST(no_heap_spawn, the_counter_sees_an_allocation) {
  const long before = taskpipe::test::allocations_so_far();
  kept = std::make_unique<long>(42);
  EXPECT_GE(taskpipe::test::allocations_so_far() - before, 1);
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
