// Conformance tests for executor and async: what executor.hpp and future.hpp promise.
#include "taskpipe/runtime/executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/cpu_time.hpp"
#include "taskpipe/error.hpp"

namespace {

using namespace std::chrono_literals;

TEST(executor, starts_the_requested_number_of_workers) {
  taskpipe::executor ex{{.workers = 3}};
  EXPECT_EQ(ex.num_workers(), 3U);
  EXPECT_EQ(ex.stats().size(), 3U);
  EXPECT_FALSE(ex.this_worker_index().has_value());
}

TEST(executor, reports_how_long_its_idle_workers_spin) {
  // The pinned strategy's threads read it to wait as long as the workers do.
  EXPECT_EQ(taskpipe::executor{}.spin_before_sleep(), std::chrono::microseconds{200});
  taskpipe::executor ex{{.workers = 1, .spin_before_sleep = std::chrono::microseconds{7}}};
  EXPECT_EQ(ex.spin_before_sleep(), std::chrono::microseconds{7});
}

TEST(executor, zero_workers_means_one_per_hardware_thread) {
  taskpipe::executor ex;
  EXPECT_EQ(ex.num_workers(), std::max(1U, std::thread::hardware_concurrency()));
}

TEST(executor, rejects_an_absurd_worker_count_with_a_message_naming_it) {
  try {
    taskpipe::executor ex{{.workers = 100'000}};
    FAIL() << "expected taskpipe::invalid_argument";
  } catch (const taskpipe::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("100000"), std::string::npos) << e.what();
  }
}

TEST(executor, async_returns_the_value_and_runs_on_a_worker) {
  taskpipe::executor ex{{.workers = 2}};
  auto f = ex.async([&] { return ex.this_worker_index().value_or(99); });
  EXPECT_LT(f.get(), 2U);
  EXPECT_FALSE(f.valid());
  EXPECT_THROW(f.get(), taskpipe::error);
}

TEST(executor, async_void_and_move_only_results) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<int> hits{0};
  ex.async([&] { hits.fetch_add(1); }).get();
  EXPECT_EQ(hits.load(), 1);
  auto p = ex.async([] { return std::make_unique<int>(7); }).get();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

TEST(executor, async_rethrows_the_task_exception) {
  taskpipe::executor ex{{.workers = 2}};
  auto f = ex.async([]() -> int { throw std::runtime_error("boom"); });
  try {
    (void)f.get();
    FAIL() << "expected the task's exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
}

// get() on a worker helps: with one worker, a task that waits for the future of a task it spawned must not deadlock.
TEST(executor, nested_async_get_on_a_single_worker_helps_instead_of_deadlocking) {
  taskpipe::executor ex{{.workers = 1}};
  std::function<long(int)> depth = [&](int d) -> long {
    if (d == 0) {
      return 1;
    }
    auto a = ex.async([&, d] { return depth(d - 1); });
    auto b = ex.async([&, d] { return depth(d - 1); });
    return a.get() + b.get();
  };
  EXPECT_EQ(ex.async([&] { return depth(12); }).get(), 4096);
}

TEST(executor, large_callables_are_boxed_and_still_run) {
  taskpipe::executor ex{{.workers = 2}};
  std::array<long, 64> big{};
  std::iota(big.begin(), big.end(), 1);
  EXPECT_EQ(ex.async([big] { return std::accumulate(big.begin(), big.end(), 0L); }).get(), 64 * 65 / 2);
}

TEST(executor, destructor_waits_for_async_tasks_whose_futures_were_dropped) {
  std::atomic<int> done{0};
  {
    taskpipe::executor ex{{.workers = 2}};
    for (int i = 0; i < 100; ++i) {
      (void)ex.async([&] {
        std::this_thread::sleep_for(100us);
        done.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(done.load(), 100);
}

TEST(executor, submission_from_many_threads_at_once) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<long> sum{0};
  std::vector<std::thread> submitters;
  submitters.reserve(4);
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&] {
      std::vector<taskpipe::future<void>> fs;
      fs.reserve(1000);
      for (int i = 1; i <= 1000; ++i) {
        fs.push_back(ex.async([&sum, i] { sum.fetch_add(i); }));
      }
      for (auto& f : fs) {
        f.get();
      }
    });
  }
  for (auto& t : submitters) {
    t.join();
  }
  EXPECT_EQ(sum.load(), 4L * 1000 * 1001 / 2);
}

// Idle workers must sleep, not spin: four idle workers over 300 ms may use a small fraction of one core.
TEST(executor, idle_workers_sleep_without_burning_cpu_and_wake_for_new_work) {
  taskpipe::executor ex{{.workers = 4, .spin_before_sleep = 100us}};
  ex.async([] {}).get();
  std::this_thread::sleep_for(50ms);  // let every worker finish spinning
  const double before = taskpipe::test::process_cpu_seconds();
  std::this_thread::sleep_for(300ms);
  const double used = taskpipe::test::process_cpu_seconds() - before;
  EXPECT_LT(used, 0.1) << "idle workers used " << used << " s of CPU in 0.3 s";
  std::uint64_t sleeps = 0;
  for (const auto& s : ex.stats()) {
    sleeps += s.sleeps;
  }
  EXPECT_GT(sleeps, 0U);
  EXPECT_EQ(ex.async([] { return 5; }).get(), 5);  // a sleeping executor still takes work
}

TEST(executor, counters_account_for_every_task) {
  taskpipe::executor ex{{.workers = 2}};
  std::vector<taskpipe::future<void>> fs;
  fs.reserve(500);
  for (int i = 0; i < 500; ++i) {
    fs.push_back(ex.async([] {}));
  }
  for (auto& f : fs) {
    f.get();
  }
  std::uint64_t run = 0;
  std::uint64_t steals = 0;
  for (const auto& s : ex.stats()) {
    run += s.tasks_run;
    steals += s.steals;
  }
  EXPECT_EQ(run, 500U);
  EXPECT_EQ(steals, 500U);  // every task came through the submission queue
}

TEST(executor, created_and_destroyed_in_a_loop) {
  for (int round = 0; round < 200; ++round) {
    taskpipe::executor ex{{.workers = static_cast<std::size_t>(1 + round % 4), .spin_before_sleep = 0us}};
    if (round % 2 == 0) {
      EXPECT_EQ(ex.async([round] { return round; }).get(), round);
    }
  }
}

}  // namespace
