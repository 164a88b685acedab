// Conformance tests for building graphs: placeholders whose work is set later, linearize, large callables and
// long successor lists (stored outside the task), clearing and rebuilding.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/graph/graph.hpp"

namespace {

TEST(graph_build, a_placeholder_runs_the_work_set_later) {
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = std::chrono::microseconds{0}}};
  taskpipe::graph g;
  std::vector<int> order;
  auto a = g.emplace([&] { order.push_back(1); });
  auto p = g.placeholder();
  auto c = g.emplace([&] { order.push_back(3); });
  a.precede(p);
  p.precede(c);
  EXPECT_FALSE(p.has_work());
  p.work([&] { order.push_back(2); });
  EXPECT_TRUE(p.has_work());
  ex.run(g).get();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(graph_build, a_placeholder_without_work_runs_nothing_and_releases_its_successors) {
  taskpipe::executor ex{{.workers = 3, .spin_before_sleep = std::chrono::microseconds{0}}};
  taskpipe::graph g;
  std::atomic<int> ran{0};
  auto fork = g.placeholder();
  auto join = g.placeholder();
  for (int i = 0; i < 8; ++i) {
    auto t = g.emplace([&] { ran.fetch_add(1); });
    fork.precede(t);
    t.precede(join);
  }
  int lasts = 0;
  auto last = g.emplace([&] { EXPECT_EQ(ran.load(), 8 * ++lasts); });  // after every task of its own run
  join.precede(last);
  ex.run_n(g, 3).get();
  EXPECT_EQ(ran.load(), 24);
  EXPECT_EQ(lasts, 3);
}

TEST(graph_build, work_replaces_the_work_and_takes_a_stop_token) {
  taskpipe::executor ex{{.workers = 1}};
  taskpipe::graph g;
  int which = 0;
  auto t = g.emplace([&] { which = 1; });
  t.work([&](taskpipe::stop_token st) { which = st.stop_requested() ? -1 : 2; });
  ex.run(g).get();
  EXPECT_EQ(which, 2);
}

TEST(graph_build, work_on_a_module_task_or_an_empty_handle_throws) {
  taskpipe::graph inner;
  taskpipe::graph g;
  auto m = g.composed_of(inner);
  EXPECT_THROW(m.work([] {}), taskpipe::error);
  taskpipe::task_handle none;
  EXPECT_THROW(none.work([] {}), taskpipe::error);
}

TEST(graph_build, linearize_chains_the_tasks_in_the_given_order) {
  taskpipe::executor ex{{.workers = 4, .spin_before_sleep = std::chrono::microseconds{0}}};
  taskpipe::graph g;
  std::vector<int> order;
  std::vector<taskpipe::task_handle> t;
  for (int i = 0; i < 100; ++i) {
    t.push_back(g.emplace([&order, i] { order.push_back(i); }));
  }
  std::vector<taskpipe::task_handle> reversed(t.rbegin(), t.rend());
  g.linearize(reversed);
  for (std::size_t i = 0; i + 1 < reversed.size(); ++i) {
    EXPECT_EQ(reversed[i].num_successors(), 1U);
  }
  EXPECT_EQ(t[0].num_successors(), 0U);
  EXPECT_EQ(t[99].num_predecessors(), 0U);
  ex.run(g).get();
  ASSERT_EQ(order.size(), 100U);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(order[static_cast<std::size_t>(i)], 99 - i);
  }
}

TEST(graph_build, linearize_of_fewer_than_two_tasks_adds_no_edge_and_rejects_other_graphs) {
  taskpipe::graph g;
  taskpipe::graph other;
  auto a = g.placeholder();
  g.linearize({});
  g.linearize({a});
  EXPECT_EQ(a.num_successors(), 0U);
  auto b = other.placeholder();
  EXPECT_THROW(g.linearize({a, b}), taskpipe::error);
  EXPECT_THROW(g.linearize({a, taskpipe::task_handle{}}), taskpipe::error);
}

TEST(graph_build, large_callables_and_long_successor_lists_live_outside_the_task) {
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = std::chrono::microseconds{0}}};
  taskpipe::graph g;
  std::atomic<long> sum{0};
  std::array<long, 32> big{};  // 256 bytes: too big for the task
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<long>(i);
  }
  auto root = g.emplace([&sum, big] {
    long s = 0;
    for (long v : big) {
      s += v;
    }
    sum.fetch_add(s);
  });
  for (int i = 0; i < 1000; ++i) {
    root.precede(g.emplace([&sum, i] { sum.fetch_add(i); }));
  }
  EXPECT_EQ(root.num_successors(), 1000U);
  ex.run_n(g, 2).get();
  EXPECT_EQ(sum.load(), 2 * (31 * 32 / 2 + 999 * 1000 / 2));
}

TEST(graph_build, clear_destroys_the_callables_and_the_graph_can_be_rebuilt) {
  taskpipe::executor ex{{.workers = 2}};
  auto alive = std::make_shared<int>(0);
  taskpipe::graph g;
  for (int i = 0; i < 5000; ++i) {
    g.emplace([alive] { ++*alive; });
  }
  EXPECT_EQ(alive.use_count(), 5001);
  g.clear();
  EXPECT_EQ(alive.use_count(), 1);
  EXPECT_EQ(g.size(), 0U);
  int ran = 0;
  auto a = g.emplace([&] { ++ran; });
  auto b = g.emplace([&] { ++ran; });
  g.linearize({a, b});
  ex.run(g).get();
  EXPECT_EQ(ran, 2);
}

}  // namespace
