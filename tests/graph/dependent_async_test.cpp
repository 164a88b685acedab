// Conformance tests for executor::dependent_async: ordering on random DAGs built while they run, results, failure
// propagation, calls from inside tasks.
#include "taskpipe/graph/dependent_async.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/random_dag.hpp"

namespace {

using taskpipe::test::random_dag;
using taskpipe::test::stamp_log;

// Submits the tasks of `d` in an order where every predecessor comes first (the DAG grows while it already runs).
std::vector<taskpipe::async_task<void>> submit(taskpipe::executor& ex, const random_dag& d, stamp_log& log) {
  std::vector<std::vector<std::size_t>> preds(d.size);
  std::vector<std::size_t> indegree(d.size, 0);
  std::vector<std::vector<std::size_t>> succs(d.size);
  for (const auto& [from, to] : d.edges) {
    preds[to].push_back(from);
    succs[from].push_back(to);
    ++indegree[to];
  }
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < d.size; ++i) {
    if (indegree[i] == 0) {
      order.push_back(i);
    }
  }
  for (std::size_t head = 0; head < order.size(); ++head) {
    for (std::size_t s : succs[order[head]]) {
      if (--indegree[s] == 0) {
        order.push_back(s);
      }
    }
  }
  std::vector<taskpipe::async_task<void>> handles(d.size);
  for (std::size_t i : order) {
    std::vector<taskpipe::async_dependency> deps;
    for (std::size_t p : preds[i]) {
      deps.push_back(handles[p]);
    }
    handles[i] = ex.dependent_async([&log, i] { log.run(i); }, deps);
  }
  return handles;
}

class dependent_async_random : public testing::TestWithParam<std::size_t> {};

TEST_P(dependent_async_random, random_dags_run_each_task_once_after_its_dependencies) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() * 31};
  for (int round = 0; round < 1000; ++round) {
    const auto d = random_dag::make(rng, round % 10 == 0 ? 80 : 20, round % 2 == 0 ? 0.25 : 0.06);
    stamp_log log{d.size};
    auto handles = submit(ex, d, log);
    for (auto& h : handles) {
      h.wait();
    }
    ASSERT_EQ(log.check(d, 1), "") << "round " << round;
  }
}

TEST_P(dependent_async_random, built_from_inside_a_task) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() * 77};
  for (int round = 0; round < 1500; ++round) {
    const auto d = random_dag::make(rng, round % 10 == 0 ? 80 : 20, round % 2 == 0 ? 0.25 : 0.06);
    stamp_log log{d.size};
    ex.async([&] {
        auto handles = submit(ex, d, log);
        for (auto& h : handles) {
          h.get();
        }
      }).get();
    ASSERT_EQ(log.check(d, 1), "") << "round " << round;
  }
}

INSTANTIATE_TEST_SUITE_P(workers, dependent_async_random, testing::Values(1U, 2U, 8U));

TEST(dependent_async, results_flow_along_dependencies) {
  taskpipe::executor ex{{.workers = 2}};
  auto a = ex.dependent_async([] { return 20; });
  auto b = ex.dependent_async([] { return std::string("x"); });
  auto c = ex.dependent_async([&] { return a.get() + static_cast<int>(b.get().size()) + 21; }, a, b);
  EXPECT_EQ(c.get(), 42);
  EXPECT_TRUE(a.is_ready());
  taskpipe::async_task<int> empty;
  EXPECT_THROW(empty.get(), taskpipe::error);
  EXPECT_THROW(ex.dependent_async([] {}, empty), taskpipe::error);
}

TEST(dependent_async, a_failure_skips_every_task_downstream_and_reaches_them_all) {
  taskpipe::executor ex{{.workers = 2}};
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> ran{0};
    auto bad = ex.dependent_async([] { throw std::runtime_error("bad"); });
    auto good = ex.dependent_async([&] { ++ran; });
    auto mid = ex.dependent_async([&] { ++ran; }, bad, good);
    auto last = ex.dependent_async([&] { ++ran; }, mid);
    auto late = ex.dependent_async([&] { ++ran; }, bad);  // bad may well have finished already
    EXPECT_THROW(last.get(), std::runtime_error);
    EXPECT_THROW(late.get(), std::runtime_error);
    EXPECT_THROW(mid.get(), std::runtime_error);
    good.get();
    EXPECT_EQ(ran.load(), 1);
  }
}

TEST(dependent_async, a_long_chain_and_a_wide_fan_in) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<int> counter{0};
  taskpipe::async_task<void> prev = ex.dependent_async([&] { ++counter; });
  for (int i = 0; i < 20'000; ++i) {
    prev = ex.dependent_async(
        [&, i] {
          if (counter.load() != i + 1) {
            throw std::logic_error("out of order");
          }
          ++counter;
        },
        prev);
  }
  prev.get();
  std::vector<taskpipe::async_dependency> fan;
  fan.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    fan.push_back(ex.dependent_async([&] { ++counter; }));
  }
  auto join = ex.dependent_async([&] { return counter.load(); }, fan);
  EXPECT_EQ(join.get(), 20'001 + 1000);
}

}  // namespace
