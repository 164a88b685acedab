// White-box tests of the work-stealing deque: order, growth, and exactly-once delivery under concurrent stealing.
#include "taskpipe/runtime/detail/chase_lev_deque.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using taskpipe::detail::chase_lev_deque;
using taskpipe::detail::steal_outcome;

TEST(chase_lev_deque, owner_pops_newest_first_and_thief_steals_oldest_first) {
  std::vector<int> items(5);
  chase_lev_deque<int*> dq{2};
  for (auto& i : items) {
    dq.push(&i);
  }
  EXPECT_EQ(dq.pop(), &items[4]);
  auto stolen = dq.steal();
  ASSERT_EQ(stolen.outcome, steal_outcome::success);
  EXPECT_EQ(stolen.item, &items[0]);
  EXPECT_EQ(dq.pop(), &items[3]);
  EXPECT_EQ(dq.pop(), &items[2]);
  EXPECT_EQ(dq.pop(), &items[1]);
  EXPECT_EQ(dq.pop(), nullptr);
  EXPECT_EQ(dq.steal().outcome, steal_outcome::empty);
  EXPECT_TRUE(dq.empty());
}

TEST(chase_lev_deque, grows_past_its_initial_capacity_without_losing_items) {
  constexpr int n = 10'000;
  std::vector<int> items(n);
  chase_lev_deque<int*> dq{4};
  for (auto& i : items) {
    dq.push(&i);
  }
  for (int k = n - 1; k >= 0; --k) {
    ASSERT_EQ(dq.pop(), &items[static_cast<std::size_t>(k)]);
  }
  EXPECT_EQ(dq.pop(), nullptr);
}

// The owner pushes and pops while thieves steal; every item must be taken exactly once.
TEST(chase_lev_deque, concurrent_steals_take_every_item_exactly_once) {
  constexpr int n = 200'000;
  constexpr int thieves = 3;
  std::vector<int> items(n);
  std::vector<std::atomic<int>> taken(n);
  chase_lev_deque<int*> dq{8};
  std::atomic<bool> owner_done{false};
  auto take = [&](int* p) {
    taken[static_cast<std::size_t>(p - items.data())].fetch_add(1, std::memory_order_relaxed);
  };

  std::vector<std::thread> ts;
  ts.reserve(thieves);
  for (int t = 0; t < thieves; ++t) {
    ts.emplace_back([&] {
      for (;;) {
        auto r = dq.steal();
        if (r.outcome == steal_outcome::success) {
          take(r.item);
        } else if (r.outcome == steal_outcome::empty && owner_done.load(std::memory_order_acquire) && dq.empty()) {
          return;
        }
      }
    });
  }
  for (int i = 0; i < n; ++i) {
    dq.push(&items[static_cast<std::size_t>(i)]);
    if (i % 3 == 0) {
      if (int* p = dq.pop()) {
        take(p);
      }
    }
  }
  while (int* p = dq.pop()) {
    take(p);
  }
  owner_done.store(true, std::memory_order_release);
  for (auto& t : ts) {
    t.join();
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(taken[static_cast<std::size_t>(i)].load(), 1) << "item " << i;
  }
}

}  // namespace
