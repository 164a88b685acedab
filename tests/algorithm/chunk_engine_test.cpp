// White-box tests of the chunk engine (detail/chunks.hpp, detail/caller_hand_off.hpp): a worker starts on its own
// share of the range and still runs every chunk once; a caller off the workers is woken when the last chunks start
// (where an early wake-up is on), and always when the work ends.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "taskpipe/algorithm/detail/caller_hand_off.hpp"
#include "taskpipe/algorithm/detail/chunks.hpp"
#include "taskpipe/algorithm/detail/ordered_scan.hpp"
#include "taskpipe/algorithm/parallel_for.hpp"
#include "taskpipe/runtime/detail/parker.hpp"

namespace {

using namespace std::chrono_literals;
using taskpipe::detail::caller_hand_off;
using taskpipe::detail::chunk_plan;

TEST(chunk_engine, home_chunk_is_the_start_of_the_workers_equal_share) {
  EXPECT_EQ(taskpipe::detail::home_chunk(0, 2, 64), 0U);
  EXPECT_EQ(taskpipe::detail::home_chunk(1, 2, 64), 32U);
  EXPECT_EQ(taskpipe::detail::home_chunk(3, 4, 10), 7U);
  EXPECT_EQ(taskpipe::detail::home_chunk(2, 3, 2), 1U);
  EXPECT_EQ(taskpipe::detail::home_chunk(5, 4, 64), 0U) << "an index out of range starts at the front";
}

TEST(chunk_engine, a_worker_starts_on_its_home_chunk_and_runs_every_chunk_once) {
  taskpipe::executor ex{{.workers = 1}};  // one worker: the order is its own, nobody steals
  for (const std::size_t chunks : {2U, 3U, 7U, 64U}) {
    const chunk_plan plan = chunk_plan::make(chunks, 2, taskpipe::auto_partitioner());
    ASSERT_EQ(plan.size(), chunks);
    for (std::size_t home = 0; home < chunks; ++home) {
      std::vector<std::size_t> order;
      auto fn = [&order](std::size_t i, std::size_t /*lo*/, std::size_t /*hi*/) { order.push_back(i); };
      ex.async([&] { taskpipe::detail::split_chunks(ex, plan, 0, chunks, {}, fn, home); }).get();
      ASSERT_EQ(order.size(), chunks) << "chunks " << chunks << " home " << home;
      EXPECT_EQ(order.front(), home) << "chunks " << chunks;
      std::vector<int> seen(chunks, 0);
      for (const std::size_t i : order) {
        ++seen[i];
      }
      for (std::size_t i = 0; i < chunks; ++i) {
        EXPECT_EQ(seen[i], 1) << "chunks " << chunks << " home " << home << " chunk " << i;
      }
    }
  }
}

TEST(chunk_engine, with_two_workers_each_runs_its_own_half_when_both_take_part) {
  taskpipe::executor ex{{.workers = 2}};
  constexpr std::size_t chunks = 64;
  const chunk_plan plan = chunk_plan::make(chunks, 2, taskpipe::auto_partitioner());
  for (std::size_t root = 0; root < 2; ++root) {
    // Run the call from worker `root`: the chunk at the start of its own share is the first it runs, whoever steals.
    std::atomic<std::size_t> first_run_by_root{chunks};
    std::atomic<bool> root_started{false};
    auto fn = [&](std::size_t i, std::size_t /*lo*/, std::size_t /*hi*/) {
      if (ex.this_worker_index() == root && !root_started.exchange(true)) {
        first_run_by_root = i;
      }
    };
    for (auto deadline = std::chrono::steady_clock::now() + 10s;;) {
      auto f = ex.async([&] {
        if (ex.this_worker_index() != root) {
          return false;  // landed on the other worker: try again
        }
        taskpipe::detail::run_chunks(ex, plan, {}, fn);
        return true;
      });
      if (f.get()) {
        break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no call landed on worker " << root;
    }
    EXPECT_EQ(first_run_by_root.load(), taskpipe::detail::home_chunk(root, 2, chunks));
  }
}

TEST(chunk_engine, a_thief_starts_on_its_home_chunk_only_inside_the_piece_it_stole) {
  taskpipe::executor ex{{.workers = 2}};
  for (auto deadline = std::chrono::steady_clock::now() + 10s;;) {
    auto f = ex.async([&ex] {
      if (ex.this_worker_index() != 1U) {
        return false;  // landed on worker 0: try again
      }
      EXPECT_EQ(taskpipe::detail::home_within(ex, 64, 0, 64), 32U);
      EXPECT_EQ(taskpipe::detail::home_within(ex, 64, 32, 64), 32U);
      EXPECT_EQ(taskpipe::detail::home_within(ex, 64, 0, 32), 0U) << "home 32 is not in [0, 32)";
      EXPECT_EQ(taskpipe::detail::home_within(ex, 64, 40, 64), 40U) << "home 32 is not in [40, 64)";
      EXPECT_EQ(taskpipe::detail::home_within(ex, 64, 16, 48), 32U);
      return true;
    });
    if (f.get()) {
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no call landed on worker 1";
  }
}

TEST(chunk_engine, finishing_wakes_only_where_an_early_wake_up_is_on) {
  taskpipe::detail::parker p;
  caller_hand_off late{p, false};
  EXPECT_FALSE(late.enabled());
  late.finishing();
  EXPECT_FALSE(late.woken_up());
  late.wake();
  EXPECT_TRUE(late.woken_up());

  caller_hand_off early{p, true};
  EXPECT_TRUE(early.enabled());
  early.finishing();
  EXPECT_TRUE(early.woken_up());

  caller_hand_off none;
  EXPECT_FALSE(none.enabled());
  none.wake();  // nobody to wake: must not touch a parker
}

TEST(chunk_engine, a_sleeping_caller_is_woken_by_another_thread) {
  caller_hand_off h{taskpipe::detail::this_thread_parker(), true};
  std::thread waker{[&h] {
    std::this_thread::sleep_for(5ms);  // past the caller's spin: it sleeps by now, most of the time
    h.finishing();
  }};
  const auto start = std::chrono::steady_clock::now();
  h.await();  // a lost wake-up hangs here: ctest's timeout fails it
  EXPECT_TRUE(h.woken_up());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  waker.join();
}

TEST(chunk_engine, run_chunks_wakes_the_caller_when_the_last_chunks_start) {
  taskpipe::executor ex{{.workers = 1}};  // chunks start one after the other
  for (const std::size_t chunks : {2U, 3U, 5U, 64U}) {
    const chunk_plan plan = chunk_plan::make(chunks, 2, taskpipe::auto_partitioner());
    taskpipe::detail::parker p;
    ASSERT_EQ(plan.size(), chunks);
    caller_hand_off h{p, true};
    std::size_t before_wake = 0;
    auto fn = [&](std::size_t /*i*/, std::size_t /*lo*/, std::size_t /*hi*/) {
      if (!h.woken_up()) {
        ++before_wake;
      }
    };
    ex.async([&] { taskpipe::detail::run_chunks(ex, plan, {}, fn, h); }).get();
    EXPECT_EQ(before_wake, taskpipe::detail::wake_at_chunk(chunks, 1) - 1) << "chunks " << chunks;
  }
  EXPECT_EQ(taskpipe::detail::wake_at_chunk(64, 2), 60U);
  EXPECT_EQ(taskpipe::detail::wake_at_chunk(4, 2), 1U);
}

TEST(chunk_engine, the_ordered_scan_wakes_the_caller_before_its_last_chunks) {
  taskpipe::executor ex{{.workers = 1}};  // chunks are claimed one after the other
  constexpr std::size_t n = std::size_t{100} * 64;
  constexpr std::size_t chunk = 64;  // 100 chunks: woken when the last max(2, 100 / 16) = 6 are left
  const std::vector<long> in(n, 1);
  std::vector<long> out(n);
  taskpipe::detail::parker p;
  caller_hand_off h{p, true};
  std::size_t written_before_wake = 0;
  auto plus = [&](long a, long b) {
    if (!h.woken_up()) {
      ++written_before_wake;
    }
    return a + b;
  };
  taskpipe::detail::ordered_scan<long, std::vector<long>::const_iterator, std::vector<long>::iterator, decltype(plus)>
      scan{in.begin(), out.begin(), n, chunk, plus, std::nullopt, false};
  ex.async([&] { return scan.run(ex, {}, h); }).get();
  EXPECT_TRUE(h.woken_up());
  EXPECT_EQ(written_before_wake, 94 * chunk - 1) << "one op per element but the first";
  EXPECT_EQ(out.back(), static_cast<long>(n));
}

TEST(chunk_engine, a_caller_off_the_workers_gets_its_exception_and_returns) {
  taskpipe::executor ex{{.workers = 2}};
  for (int round = 0; round < 20; ++round) {
    EXPECT_THROW(taskpipe::parallel_for(ex, 0, 1000,
                                        [](int i) {
                                          if (i == 999) {
                                            std::this_thread::sleep_for(1ms);  // past the caller's spin
                                            throw std::runtime_error("last");
                                          }
                                        }),
                 std::runtime_error);
  }
}

}  // namespace
