// Conformance tests for waiting on dependent-async tasks: a task is ready before its dependents start, and any number
// of threads (workers and others) may wait on one task at once. Run oversubscribed (more workers than cores) with
// spin_before_sleep = 0, so waiters really park and wake-ups race with completion.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "taskpipe/graph/dependent_async.hpp"

namespace {

constexpr taskpipe::executor_options oversubscribed{.workers = 6, .spin_before_sleep = std::chrono::microseconds{0}};

TEST(dependent_async_waiters, a_dependent_finds_its_dependency_ready_and_many_dependents_get_it) {
  taskpipe::executor ex{oversubscribed};
  constexpr int dependents = 8;
  std::atomic<int> not_ready_seen{0};
  for (int round = 0; round < 2000; ++round) {
    auto a = ex.dependent_async([round] { return round; });
    std::vector<taskpipe::async_task<int>> ds;
    ds.reserve(dependents);
    for (int k = 0; k < dependents; ++k) {
      ds.push_back(ex.dependent_async(
          [&not_ready_seen, a, k] {
            if (!a.is_ready()) {
              not_ready_seen.fetch_add(1);
            }
            return a.get() + k;
          },
          a));
    }
    for (int k = 0; k < dependents; ++k) {
      ASSERT_EQ(ds[static_cast<std::size_t>(k)].get(), round + k) << "round " << round;
    }
  }
  EXPECT_EQ(not_ready_seen.load(), 0) << "dependents started before the task they depend on was marked ready";
}

TEST(dependent_async_waiters, many_threads_and_workers_wait_on_one_task_at_once) {
  taskpipe::executor ex{oversubscribed};
  for (int round = 0; round < 60; ++round) {
    std::atomic<bool> open{false};
    auto gate = ex.dependent_async([&open, round] {
      while (!open.load()) {
        std::this_thread::yield();
      }
      return round;
    });
    std::atomic<int> right{0};
    std::vector<std::thread> outside;
    for (int t = 0; t < 4; ++t) {
      outside.emplace_back([&] {
        if (gate.get() == round) {
          right.fetch_add(1);
        }
      });
    }
    std::vector<taskpipe::future<bool>> inside;  // waiters on workers help while they wait
    for (int t = 0; t < 3; ++t) {
      inside.push_back(ex.async([&] { return gate.get() == round; }));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // long enough for the outside waiters to park
    open.store(true);
    for (auto& th : outside) {
      th.join();
    }
    for (auto& f : inside) {
      EXPECT_TRUE(f.get()) << "round " << round;
    }
    ASSERT_EQ(right.load(), 4) << "round " << round;
  }
}

// The pattern of examples/dependent_async.cpp (each entry gets the two above it), again and again.
TEST(dependent_async_waiters, pascal_triangle_in_a_loop) {
  taskpipe::executor ex{oversubscribed};
  constexpr std::size_t rows = 16;
  for (int round = 0; round < 400; ++round) {
    std::vector<taskpipe::async_task<std::uint64_t>> row{ex.dependent_async([] { return std::uint64_t{1}; })};
    for (std::size_t r = 1; r < rows; ++r) {
      std::vector<taskpipe::async_task<std::uint64_t>> next;
      next.push_back(ex.dependent_async([] { return std::uint64_t{1}; }));
      for (std::size_t k = 1; k < r; ++k) {
        const auto& l = row[k - 1];
        const auto& u = row[k];
        next.push_back(ex.dependent_async([l, u] { return l.get() + u.get(); }, l, u));
      }
      next.push_back(ex.dependent_async([] { return std::uint64_t{1}; }));
      row = std::move(next);
    }
    std::uint64_t sum = 0;
    for (const auto& t : row) {
      sum += t.get();
    }
    ASSERT_EQ(sum, std::uint64_t{1} << (rows - 1)) << "round " << round;
  }
}

}  // namespace
