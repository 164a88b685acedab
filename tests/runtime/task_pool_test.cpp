// White-box tests of task-block pooling: reuse, spilling to the depot, and blocks moving between pools.
#include "taskpipe/runtime/detail/task_pool.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace {

using taskpipe::detail::task;
using taskpipe::detail::task_depot;
using taskpipe::detail::task_pool;

TEST(task_pool, a_released_block_is_the_next_one_allocated) {
  task_depot depot;
  task_pool pool{depot};
  task* a = pool.allocate();
  pool.release(a);
  EXPECT_EQ(pool.allocate(), a);
}

TEST(task_pool, blocks_are_distinct_and_cache_line_aligned) {
  task_depot depot;
  task_pool pool{depot};
  std::set<task*> seen;
  for (int i = 0; i < 1000; ++i) {
    task* t = pool.allocate();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t) % 64, 0U);
    EXPECT_TRUE(seen.insert(t).second) << "block handed out twice";
  }
}

// A consumer pool that only frees (a thief) hands surplus back to the depot, and a producer pool that only
// allocates takes it from there instead of growing without bound.
TEST(task_pool, surplus_blocks_flow_back_through_the_depot) {
  task_depot depot;
  task_pool producer{depot};
  task_pool consumer{depot};
  std::set<task*> ever;
  for (int round = 0; round < 50; ++round) {
    std::vector<task*> batch;
    for (std::size_t i = 0; i < task_depot::batch_size; ++i) {
      batch.push_back(producer.allocate());
      ever.insert(batch.back());
    }
    for (task* t : batch) {
      consumer.release(t);
    }
  }
  // Without recycling the producer would have touched 50 * 256 distinct blocks.
  EXPECT_LE(ever.size(), 4 * task_depot::batch_size);
}

TEST(task_pool, take_one_serves_threads_without_a_pool) {
  task_depot depot;
  task* a = depot.take_one();
  task* b = depot.take_one();
  EXPECT_NE(a, nullptr);
  EXPECT_NE(a, b);
}

}  // namespace
