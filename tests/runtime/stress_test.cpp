// Stress tests against sequential oracles: many spawns, random fork trees, exception storms.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "common/fork_join.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace {

// 10^7 spawns: 10^4 groups of 10^3 leaves each, under a fan-out of groups; the sum of the leaf indices must equal the
// closed form.
TEST(stress, ten_million_spawns_sum_to_the_serial_answer) {
  static constexpr std::int64_t groups = 10'000;
  static constexpr std::int64_t leaves = 1'000;
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<std::int64_t> total{0};
  taskpipe::task_group outer{ex};
  for (std::int64_t g = 0; g < groups; ++g) {
    outer.spawn([&, g] {
      std::int64_t sum = 0;
      std::vector<std::int64_t> parts(leaves);
      taskpipe::task_group inner{ex};
      for (std::int64_t i = 0; i < leaves; ++i) {
        inner.spawn([&parts, i, g] { parts[static_cast<std::size_t>(i)] = g * leaves + i; });
      }
      inner.wait();
      for (auto p : parts) {
        sum += p;
      }
      total.fetch_add(sum);
    });
  }
  outer.wait();
  constexpr std::int64_t n = groups * leaves;
  EXPECT_EQ(total.load(), n * (n - 1) / 2);
}

// A random tree: each node has a value and 0..max_fanout children. Parallel sum with one group per node must equal
// the sequential sum.
struct tree_node {
  std::int64_t value = 0;
  std::vector<tree_node> children;
};

tree_node random_tree(std::mt19937_64& rng, int depth, int max_fanout) {
  tree_node n;
  n.value = static_cast<std::int64_t>(rng() % 1000);
  if (depth > 0) {
    const auto fan = static_cast<int>(rng() % static_cast<std::uint64_t>(max_fanout + 1));
    for (int i = 0; i < fan; ++i) {
      n.children.push_back(random_tree(rng, depth - 1 - static_cast<int>(rng() % 2), max_fanout));
    }
  }
  return n;
}

std::int64_t serial_sum(const tree_node& n) {
  std::int64_t s = n.value;
  for (const auto& c : n.children) {
    s += serial_sum(c);
  }
  return s;
}

std::int64_t parallel_sum(taskpipe::executor& ex, const tree_node& n) {
  std::vector<std::int64_t> parts(n.children.size());
  taskpipe::task_group g{ex};
  for (std::size_t i = 0; i < n.children.size(); ++i) {
    g.spawn([&, i] { parts[i] = parallel_sum(ex, n.children[i]); });
  }
  g.wait();
  std::int64_t s = n.value;
  for (auto p : parts) {
    s += p;
  }
  return s;
}

class random_fork_trees : public testing::TestWithParam<std::size_t> {};

TEST_P(random_fork_trees, parallel_sum_equals_the_sequential_oracle) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() * 7919};
  for (int round = 0; round < 40; ++round) {
    const int depth = 1 + static_cast<int>(rng() % 9);
    const int fanout = 1 + static_cast<int>(rng() % 5);
    const tree_node tree = random_tree(rng, depth, fanout);
    const std::int64_t expected = serial_sum(tree);
    // Alternate between waiting from outside and from inside a worker.
    const std::int64_t got =
        round % 2 == 0 ? parallel_sum(ex, tree) : ex.async([&] { return parallel_sum(ex, tree); }).get();
    ASSERT_EQ(got, expected) << "round " << round << ", depth " << depth << ", fan-out " << fanout;
  }
}

INSTANTIATE_TEST_SUITE_P(workers, random_fork_trees, testing::Values(1U, 2U, 8U),
                         [](const testing::TestParamInfo<std::size_t>& p) {
                           return std::to_string(p.param) + "_workers";
                         });

// Many children throw at once, at every depth: wait() always rethrows exactly one of them, never hangs, and the
// executor stays usable.
TEST(stress, exception_storms) {
  taskpipe::executor ex{{.workers = 4}};
  std::mt19937 rng{99};
  for (int round = 0; round < 100; ++round) {
    const unsigned throw_one_in = 1 + static_cast<unsigned>(rng() % 5);
    std::function<void(int)> storm = [&](int depth) {
      taskpipe::task_group g{ex};
      for (int i = 0; i < 6; ++i) {
        g.spawn([&, depth, i] {
          if (static_cast<unsigned>(depth * 31 + i) % throw_one_in == 0) {
            throw std::runtime_error("storm");
          }
          if (depth > 0) {
            storm(depth - 1);
          }
        });
      }
      g.wait();
    };
    EXPECT_THROW(storm(3), std::runtime_error);
  }
  EXPECT_EQ(taskpipe::test::fib(ex, 18), taskpipe::test::serial_fib(18));
}

}  // namespace
