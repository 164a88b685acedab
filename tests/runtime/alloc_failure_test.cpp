// Failure injection: an allocation fails at every point in turn (the n-th allocation after the call starts, for n =
// 1, 2, ...) while work is submitted and run. Each call must then either succeed or throw std::bad_alloc to its
// caller; it must never end the program (an exception in a noexcept path) nor leave a wait or the executor's
// destructor waiting for a task that will never run. The watchdog turns such a hang into a failure. This binary
// replaces operator new, so it is built on its own.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <new>
#include <vector>

#include "common/failing_new.hpp"
#include "taskpipe/graph/dependent_async.hpp"
#include "taskpipe/graph/graph.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace {

using taskpipe::test::fail_nth_allocation;
using taskpipe::test::failure_pending;

constexpr taskpipe::executor_options opts{.workers = 2, .spin_before_sleep = std::chrono::microseconds{0}};
constexpr long max_n = 400;  // past the allocations of one round: later n make the round succeed

// Runs `round(ex, arm)` with the n-th allocation after its call to `arm()` failing, for n = 1, 2, ... until a round
// makes fewer allocations than n. Returns how many rounds saw std::bad_alloc (so a test can check that failures were
// really injected).
template <class Round>
int for_each_failure_point(Round round) {
  int failed = 0;
  for (long n = 1; n <= max_n; ++n) {
    bool threw = false;
    {
      taskpipe::executor ex{opts};
      try {
        round(ex, [n] { fail_nth_allocation(n); });
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      const bool pending = failure_pending();
      fail_nth_allocation(0);
      failed += threw ? 1 : 0;
      if (pending && !threw) {
        break;  // the round needed fewer than n allocations: every failure point has been tried
      }
    }  // the destructor must return: no async task may be counted that will never run
  }
  return failed;
}

// Callables too big to live in a task block, so every call allocates a box as well.
struct big {
  std::array<long, 16> pad{};
  std::atomic<int>* ran;
  void operator()() const { ran->fetch_add(1); }
};

TEST(alloc_failure, async_from_outside_the_workers) {
  const int failed = for_each_failure_point([](taskpipe::executor& ex, auto arm) {
    std::atomic<int> ran{0};
    std::vector<taskpipe::future<void>> fs;
    fs.reserve(200);
    arm();
    try {
      for (int i = 0; i < 200; ++i) {
        fs.push_back(ex.async(big{{}, &ran}));
      }
    } catch (...) {
      // The tasks already submitted use `ran`: wait for them before it goes out of scope.
      for (auto& f : fs) {
        f.get();
      }
      throw;
    }
    for (auto& f : fs) {
      f.get();
    }
  });
  EXPECT_GT(failed, 0);
}

TEST(alloc_failure, dependent_async_from_outside_the_workers) {
  const int failed = for_each_failure_point([](taskpipe::executor& ex, auto arm) {
    std::atomic<int> ran{0};
    std::vector<taskpipe::async_task<void>> ts;
    ts.reserve(200);
    arm();
    try {
      for (int i = 0; i < 200; ++i) {
        if (ts.empty()) {
          ts.push_back(ex.dependent_async(big{{}, &ran}));
        } else {
          ts.push_back(ex.dependent_async(big{{}, &ran}, ts.back()));
        }
      }
    } catch (...) {
      if (!ts.empty()) {
        ts.back().get();  // the chain submitted so far uses `ran`: let it finish first
      }
      throw;
    }
    ts.back().get();
  });
  EXPECT_GT(failed, 0);
}

TEST(alloc_failure, task_group_spawns_from_outside_the_workers) {
  const int failed = for_each_failure_point([](taskpipe::executor& ex, auto arm) {
    std::atomic<int> ran{0};
    taskpipe::task_group g{ex};
    arm();
    try {
      for (int i = 0; i < 300; ++i) {
        g.spawn(big{{}, &ran});
      }
    } catch (const std::bad_alloc&) {
      g.wait();  // must return: the child that failed to spawn is not waited for
      throw;
    }
    g.wait();
    EXPECT_EQ(ran.load(), 300);
  });
  EXPECT_GT(failed, 0);
}

TEST(alloc_failure, a_wide_graph_runs_every_task_once_or_throws) {
  const int failed = for_each_failure_point([](taskpipe::executor& ex, auto arm) {
    constexpr int width = 4096;
    std::vector<std::atomic<int>> ran(width);
    taskpipe::graph g;
    for (int i = 0; i < width; ++i) {
      g.emplace([&ran, i] { ran[static_cast<std::size_t>(i)].fetch_add(1); });
    }
    arm();
    for (int run = 0; run < 3; ++run) {
      ex.run(g).get();  // inside the run, a task that cannot be pushed runs where it is
    }
    for (const auto& r : ran) {
      ASSERT_EQ(r.load(), 3);
    }
  });
  EXPECT_GT(failed, 0);
}

}  // namespace
