// Conformance tests for task_group: fork-join, helping, exceptions, reuse, and waiting from outside the workers.
#include "taskpipe/runtime/task_group.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "common/cpu_time.hpp"
#include "common/fork_join.hpp"

namespace {

using namespace std::chrono_literals;
using taskpipe::test::fib;
using taskpipe::test::serial_fib;

TEST(task_group, fib_25_on_one_worker_finishes_because_wait_helps) {
  taskpipe::executor ex{{.workers = 1}};
  EXPECT_EQ(ex.async([&] { return fib(ex, 25); }).get(), serial_fib(25));
}

TEST(task_group, fib_from_outside_the_workers_on_several_worker_counts) {
  for (std::size_t w : {1U, 2U, 8U}) {
    taskpipe::executor ex{{.workers = w}};
    EXPECT_EQ(fib(ex, 22), serial_fib(22)) << w << " workers";
  }
}

TEST(task_group, wait_on_an_empty_group_returns_complete) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::task_group g{ex};
  EXPECT_EQ(g.wait(), taskpipe::task_group_status::complete);
}

TEST(task_group, children_spawned_by_children_are_waited_for) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<int> count{0};
  taskpipe::task_group g{ex};
  for (int i = 0; i < 10; ++i) {
    g.spawn([&] {
      count.fetch_add(1);
      for (int j = 0; j < 10; ++j) {
        g.spawn([&] {
          std::this_thread::sleep_for(10us);
          count.fetch_add(1);
        });
      }
    });
  }
  EXPECT_EQ(g.wait(), taskpipe::task_group_status::complete);
  EXPECT_EQ(count.load(), 110);
}

TEST(task_group, first_exception_is_rethrown_by_wait_and_the_group_is_reusable) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::task_group g{ex};
  for (int i = 0; i < 50; ++i) {
    g.spawn([i] {
      if (i % 7 == 3) {
        throw std::runtime_error("child " + std::to_string(i));
      }
    });
  }
  try {
    g.wait();
    FAIL() << "expected a child's exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("child ", 0), 0U) << e.what();
  }
  std::atomic<int> ran{0};
  g.spawn([&] { ran.fetch_add(1); });
  EXPECT_EQ(g.wait(), taskpipe::task_group_status::complete);
  EXPECT_EQ(ran.load(), 1);
}

TEST(task_group, exception_from_a_deep_child_reaches_the_top) {
  taskpipe::executor ex{{.workers = 2}};
  std::function<void(int)> dive = [&](int d) {
    taskpipe::task_group g{ex};
    g.spawn([&, d] {
      if (d == 0) {
        throw std::logic_error("bottom");
      }
      dive(d - 1);
    });
    g.wait();
  };
  EXPECT_THROW(ex.async([&] { dive(30); }).get(), std::logic_error);
}

TEST(task_group, destructor_waits_for_children) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<int> done{0};
  {
    taskpipe::task_group g{ex};
    for (int i = 0; i < 20; ++i) {
      g.spawn([&] {
        std::this_thread::sleep_for(1ms);
        done.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(done.load(), 20);
}

TEST(task_group, off_worker_wait_sleeps_until_a_long_child_finishes) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::task_group g{ex};
  std::atomic<bool> finished{false};
  g.spawn([&] {
    std::this_thread::sleep_for(50ms);
    finished.store(true);
  });
  g.wait();
  EXPECT_TRUE(finished.load());
}

TEST(task_group, off_worker_wait_does_not_spin_while_a_child_sleeps) {
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = 50us}};
  taskpipe::task_group g{ex};
  g.spawn([] { std::this_thread::sleep_for(300ms); });
  std::this_thread::sleep_for(20ms);  // the idle worker goes to sleep; the waiting thread starts below
  const double before = taskpipe::test::process_cpu_seconds();
  g.wait();
  const double used = taskpipe::test::process_cpu_seconds() - before;
  EXPECT_LT(used, 0.1) << "waiting for a sleeping child used " << used << " s of CPU";
}

// The waiting worker runs the newest child itself; that child holds its worker until the other child has started
// elsewhere, so the older child can only run if the second worker steals it (bounded: 10 s). The thief's child then
// sleeps, so the parent's worker, spin 0, goes to sleep on the stolen child and must be woken when it finishes.
TEST(task_group, a_worker_waiting_on_a_stolen_child_is_woken_when_it_finishes) {
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = 0us}};
  constexpr std::size_t nobody = ~std::size_t{0};
  std::atomic<std::size_t> parent_worker{nobody};
  std::atomic<std::size_t> older_child_worker{nobody};
  std::atomic<bool> older_started{false};
  std::atomic<int> v{0};
  auto r = ex.async([&] {
    parent_worker.store(ex.this_worker_index().value_or(nobody));
    taskpipe::task_group g{ex};
    g.spawn([&] {  // the older child: left for a thief
      older_child_worker.store(ex.this_worker_index().value_or(nobody));
      older_started.store(true);
      std::this_thread::sleep_for(30ms);
      v.fetch_add(1);
    });
    g.spawn([&] {  // the newer child: run by the waiting parent's worker
      const auto give_up = std::chrono::steady_clock::now() + 10s;
      while (!older_started.load() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(100us);
      }
      v.fetch_add(1);
    });
    g.wait();
    return v.load();
  });
  EXPECT_EQ(r.get(), 2);
  ASSERT_NE(older_child_worker.load(), nobody);
  EXPECT_NE(older_child_worker.load(), parent_worker.load())
      << "the older child was not stolen: it ran on the parent's worker after the newer one gave up";
}

TEST(task_group, spawn_accepts_a_stop_token_parameter) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::task_group g{ex};
  std::atomic<bool> saw_stop{true};
  g.spawn([&](taskpipe::stop_token st) { saw_stop.store(st.stop_requested()); });
  g.wait();
  EXPECT_FALSE(saw_stop.load());
}

}  // namespace
