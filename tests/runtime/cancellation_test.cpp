// Cancellation: skipped children, stop tokens, chained groups, and cancel racing with spawn and completion.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "taskpipe/runtime/task_group.hpp"

namespace {

using namespace std::chrono_literals;

TEST(cancellation, children_not_yet_started_are_skipped) {
  taskpipe::executor ex{{.workers = 1}};
  std::atomic<int> ran{0};
  auto status = ex.async([&] {
                    taskpipe::task_group g{ex};
                    for (int i = 0; i < 100; ++i) {
                      g.spawn([&] { ran.fetch_add(1); });
                    }
                    g.cancel();  // nothing has run yet: the only worker is running this task
                    return g.wait();
                  }).get();
  EXPECT_EQ(status, taskpipe::task_group_status::cancelled);
  EXPECT_EQ(ran.load(), 0);
}

TEST(cancellation, running_children_see_the_stop_token_and_finish) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::task_group g{ex};
  std::atomic<bool> started{false};
  std::atomic<bool> observed{false};
  g.spawn([&](taskpipe::stop_token st) {
    started.store(true);
    while (!st.stop_requested()) {
      std::this_thread::yield();
    }
    observed.store(true);
  });
  while (!started.load()) {
    std::this_thread::yield();
  }
  g.cancel();
  EXPECT_EQ(g.wait(), taskpipe::task_group_status::cancelled);
  EXPECT_TRUE(observed.load());
  EXPECT_FALSE(g.is_cancelling()) << "wait() resets the group";
}

TEST(cancellation, chained_groups_stop_when_the_outer_group_is_cancelled) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::task_group outer{ex};
  std::atomic<int> inner_ran{0};
  std::atomic<bool> inner_cancelled{false};
  outer.spawn([&] {
    taskpipe::task_group inner{ex, outer.get_stop_token()};
    outer.cancel();
    for (int i = 0; i < 50; ++i) {
      inner.spawn([&] { inner_ran.fetch_add(1); });
    }
    inner_cancelled.store(inner.wait() == taskpipe::task_group_status::cancelled);
  });
  outer.wait();
  EXPECT_TRUE(inner_cancelled.load());
  EXPECT_EQ(inner_ran.load(), 0);
}

// cancel() from another thread while children spawn and finish: every child either ran or was skipped, wait()
// returns, and the counts add up.
TEST(cancellation, cancel_races_with_spawning_and_running) {
  taskpipe::executor ex{{.workers = 2}};
  std::mt19937 rng{12345};
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> ran{0};
    const int n = 1 + static_cast<int>(rng() % 200);
    const auto delay = std::chrono::microseconds(rng() % 200);
    taskpipe::task_group g{ex};
    std::thread canceller([&] {
      std::this_thread::sleep_for(delay);
      g.cancel();
    });
    for (int i = 0; i < n; ++i) {
      g.spawn([&] {
        ran.fetch_add(1);
        std::this_thread::sleep_for(1us);
      });
    }
    canceller.join();
    const auto status = g.wait();
    EXPECT_EQ(status, taskpipe::task_group_status::cancelled);
    EXPECT_LE(ran.load(), n);
  }
}

}  // namespace
