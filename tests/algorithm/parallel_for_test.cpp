// parallel_for / parallel_for_each: every index exactly once, under every partitioner, from outside and nested,
// with exceptions and cancellation.
#include "taskpipe/algorithm/parallel_for.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "common/algorithm_oracles.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace {

using taskpipe::test::all_partitioners;
using taskpipe::test::interesting_sizes;

class parallel_for_workers : public testing::TestWithParam<std::size_t> {};

TEST_P(parallel_for_workers, every_index_runs_exactly_once) {
  taskpipe::executor ex{{.workers = GetParam()}};
  for (const std::size_t n : interesting_sizes()) {
    for (const auto& p : all_partitioners()) {
      auto hits = std::make_unique<std::atomic<int>[]>(n + 1);
      taskpipe::parallel_for(
          ex, 5L, static_cast<long>(n) + 5, [&](long i) { hits[static_cast<std::size_t>(i - 5)]++; }, p);
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
      }
    }
  }
}

TEST_P(parallel_for_workers, iterator_and_element_forms_match_std_for_each) {
  taskpipe::executor ex{{.workers = GetParam()}};
  for (const std::size_t n : interesting_sizes()) {
    std::vector<long> v(n);
    std::iota(v.begin(), v.end(), 0L);
    auto expect = v;
    std::for_each(expect.begin(), expect.end(), [](long& x) { x = x * x - 3; });
    taskpipe::parallel_for_each(ex, v.begin(), v.end(), [](long& x) { x = x * x - 3; });
    ASSERT_EQ(v, expect) << n;
    taskpipe::parallel_for(
        ex, v.begin(), v.end(), [](std::vector<long>::iterator it) { *it += 3; }, taskpipe::dynamic_partitioner());
    std::for_each(expect.begin(), expect.end(), [](long& x) { x += 3; });
    ASSERT_EQ(v, expect) << n;
  }
}

TEST_P(parallel_for_workers, nested_loops_from_inside_tasks) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::vector<std::vector<int>> grid(50, std::vector<int>(301, 0));
  taskpipe::parallel_for(ex, std::size_t{0}, grid.size(), [&](std::size_t r) {
    taskpipe::parallel_for(ex, std::size_t{0}, grid[r].size(),
                           [&](std::size_t c) { grid[r][c] += static_cast<int>(r + c); });
  });
  for (std::size_t r = 0; r < grid.size(); ++r) {
    for (std::size_t c = 0; c < grid[r].size(); ++c) {
      ASSERT_EQ(grid[r][c], static_cast<int>(r + c));
    }
  }
}

TEST_P(parallel_for_workers, an_exception_at_a_random_index_reaches_the_caller) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam()};
  for (int round = 0; round < 200; ++round) {
    const std::size_t n = 1 + rng() % 5000;
    const std::size_t bad = rng() % n;
    const auto p = all_partitioners()[rng() % all_partitioners().size()];
    try {
      taskpipe::parallel_for(
          ex, std::size_t{0}, n,
          [bad](std::size_t i) {
            if (i == bad) {
              throw std::out_of_range(std::to_string(i));
            }
          },
          p);
      FAIL() << "no exception";
    } catch (const std::out_of_range& e) {
      EXPECT_EQ(std::string(e.what()), std::to_string(bad));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(workers, parallel_for_workers, testing::Values(1U, 2U, 8U));

TEST(parallel_for, a_cancelled_token_skips_chunks_not_started) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::task_group g{ex};
  g.cancel();
  std::atomic<int> ran{0};
  taskpipe::parallel_for(
      ex, 0, 1000, [&](int) { ++ran; }, {}, g.get_stop_token());
  EXPECT_EQ(ran.load(), 0);
  g.wait();

  // Cancelled while running: element 0 cancels, every other element waits for that, so no chunk can finish, and
  // hence none be claimed, before the cancellation.
  taskpipe::task_group h{ex};
  const int n = 100'000;
  taskpipe::parallel_for(
      ex, 0, n,
      [&](int i) {
        if (i == 0) {
          h.cancel();
        }
        while (!h.is_cancelling()) {
        }
        ++ran;
      },
      taskpipe::dynamic_partitioner(), h.get_stop_token());
  EXPECT_LT(ran.load(), n);
  EXPECT_EQ(h.wait(), taskpipe::task_group_status::cancelled);
}

}  // namespace
