// parallel_sort against std::sort on random inputs (ints with many duplicates, strings, custom comparators), from
// outside and nested, with a throwing comparator.
#include "taskpipe/algorithm/parallel_sort.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/algorithm_oracles.hpp"
#include "taskpipe/algorithm/parallel_for.hpp"

namespace {

using taskpipe::test::interesting_sizes;

class parallel_sort_workers : public testing::TestWithParam<std::size_t> {};

TEST_P(parallel_sort_workers, equals_std_sort) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() + 20};
  for (const std::size_t n : interesting_sizes()) {
    for (const std::uint64_t range : {std::uint64_t{3}, std::uint64_t{1} << 40}) {
      std::vector<std::int64_t> v(n);
      for (auto& x : v) {
        x = static_cast<std::int64_t>(rng() % range);
      }
      auto expect = v;
      std::sort(expect.begin(), expect.end(), std::greater<>{});
      taskpipe::parallel_sort(ex, v.begin(), v.end(), std::greater<>{});
      ASSERT_EQ(v, expect) << "n=" << n << " range=" << range;
    }
    std::vector<std::string> s(n / 3);
    for (auto& x : s) {
      x = std::to_string(rng() % 100'000);
    }
    auto expect = s;
    std::sort(expect.begin(), expect.end());
    taskpipe::parallel_sort(ex, s.begin(), s.end());
    ASSERT_EQ(s, expect) << "strings n=" << s.size();
  }
}

TEST_P(parallel_sort_workers, sorted_reversed_and_nested) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::vector<int> up(100'000);
  std::iota(up.begin(), up.end(), 0);
  std::vector<int> down(up.rbegin(), up.rend());
  taskpipe::parallel_sort(ex, down.begin(), down.end());
  EXPECT_EQ(down, up);
  std::vector<std::vector<int>> many(8, std::vector<int>(20'000));
  std::mt19937 rng{9};
  for (auto& m : many) {
    std::generate(m.begin(), m.end(), [&] { return static_cast<int>(rng() % 1000); });
  }
  taskpipe::parallel_for_each(ex, many.begin(), many.end(),
                              [&](std::vector<int>& m) { taskpipe::parallel_sort(ex, m.begin(), m.end()); });
  for (const auto& m : many) {
    EXPECT_TRUE(std::is_sorted(m.begin(), m.end()));
  }
}

TEST_P(parallel_sort_workers, a_throwing_comparator_reaches_the_caller) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() + 21};
  for (int round = 0; round < 20; ++round) {
    std::vector<int> v(50'000);
    for (auto& x : v) {
      x = static_cast<int>(rng() % 100'000);
    }
    const int poison = v[rng() % v.size()];
    EXPECT_THROW(taskpipe::parallel_sort(ex, v.begin(), v.end(),
                                         [poison](int a, int b) {
                                           if (a == poison || b == poison) {
                                             throw std::invalid_argument("poison");
                                           }
                                           return a < b;
                                         }),
                 std::invalid_argument);
  }
}

INSTANTIATE_TEST_SUITE_P(workers, parallel_sort_workers, testing::Values(1U, 2U, 8U));

}  // namespace
