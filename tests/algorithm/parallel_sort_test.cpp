// parallel_sort against std::sort on random inputs (ints with many duplicates, strings, custom comparators), from
// outside and nested, with a throwing comparator.
#include "taskpipe/algorithm/parallel_sort.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <numeric>
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

// Inputs that defeat naive pivot choices or partitions: every key equal, two keys, organ pipe, sawtooth, sorted with
// a few swaps. Besides the result, the number of comparisons must stay within a small multiple of n log2 n, which a
// partition that degenerates to quadratic work on any of these would exceed by far.
TEST_P(parallel_sort_workers, patterned_inputs_sort_in_n_log_n_comparisons) {
  taskpipe::executor ex{{.workers = GetParam()}};
  constexpr std::size_t n = 400'000;  // above parallel_partition_above: the top steps run in parallel
  std::vector<std::pair<const char*, std::vector<int>>> inputs;
  inputs.emplace_back("all equal", std::vector<int>(n, 7));
  std::vector<int> two(n);
  for (std::size_t i = 0; i < n; ++i) {
    two[i] = static_cast<int>((i * 2654435761U) % 2);
  }
  inputs.emplace_back("two keys", two);
  std::vector<int> organ(n);
  for (std::size_t i = 0; i < n; ++i) {
    organ[i] = static_cast<int>(i < n / 2 ? i : n - i);
  }
  inputs.emplace_back("organ pipe", organ);
  std::vector<int> saw(n);
  for (std::size_t i = 0; i < n; ++i) {
    saw[i] = static_cast<int>(i % 1000);
  }
  inputs.emplace_back("sawtooth", saw);
  std::vector<int> nearly(n);
  std::iota(nearly.begin(), nearly.end(), 0);
  std::mt19937 rng{31};
  for (int k = 0; k < 20; ++k) {
    std::swap(nearly[rng() % n], nearly[rng() % n]);
  }
  inputs.emplace_back("nearly sorted", nearly);

  const double n_log_n = static_cast<double>(n) * static_cast<double>(std::bit_width(n));
  for (auto& [name, v] : inputs) {
    auto expect = v;
    std::sort(expect.begin(), expect.end());
    std::atomic<std::uint64_t> comparisons{0};
    taskpipe::parallel_sort(ex, v.begin(), v.end(), [&comparisons](int a, int b) {
      comparisons.fetch_add(1, std::memory_order_relaxed);
      return a < b;
    });
    EXPECT_EQ(v, expect) << name;
    EXPECT_LT(static_cast<double>(comparisons.load()), 4.0 * n_log_n) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(workers, parallel_sort_workers, testing::Values(1U, 2U, 8U));

// The partition step alone, against its postcondition, on small ranges full of duplicates.
// Ranges up to 1000 elements cover both the scalar loop and the block scheme (ints) with its scalar finish.
TEST(hoare_partition, splits_around_the_pivot_on_small_ranges) {
  std::mt19937 rng{5};
  auto less = std::less<>{};
  for (int round = 0; round < 20'000; ++round) {
    const std::size_t n = 1 + (round % 2 == 0 ? rng() % 40 : rng() % 1000);
    std::vector<int> v(n);
    const int keys = 1 + static_cast<int>(rng() % 6);
    for (auto& x : v) {
      x = static_cast<int>(rng() % static_cast<unsigned>(keys));
    }
    const int pivot = v.front();
    auto sorted_before = v;
    std::sort(sorted_before.begin(), sorted_before.end());
    const auto mid = taskpipe::detail::hoare_partition(v.begin(), v.end(), less);
    ASSERT_EQ(*mid, pivot);
    ASSERT_TRUE(std::all_of(v.begin(), mid, [&](int x) { return x <= pivot; })) << "round " << round;
    ASSERT_TRUE(std::all_of(mid + 1, v.end(), [&](int x) { return x >= pivot; })) << "round " << round;
    std::sort(v.begin(), v.end());
    ASSERT_EQ(v, sorted_before) << "a permutation of the input";
  }
}

// The two split loops directly, on keys that are not arithmetic (scalar) and are (blocks), against the contract.
TEST(hoare_split, both_loops_split_around_an_outside_pivot) {
  std::mt19937 rng{8};
  auto less = std::less<>{};
  for (int round = 0; round < 5'000; ++round) {
    const std::size_t n = rng() % 700;
    std::vector<int> v(n);
    const auto keys = static_cast<unsigned>(1 + rng() % 20);
    for (auto& x : v) {
      x = static_cast<int>(rng() % keys);
    }
    const int pivot = static_cast<int>(rng() % keys);
    auto w = v;
    const auto s = taskpipe::detail::hoare_split_blocks(v.begin(), v.end(), pivot, less);
    ASSERT_TRUE(std::all_of(v.begin(), s, [&](int x) { return x <= pivot; })) << "blocks, round " << round;
    ASSERT_TRUE(std::all_of(s, v.end(), [&](int x) { return x >= pivot; })) << "blocks, round " << round;
    const auto t = taskpipe::detail::hoare_split_scalar(w.begin(), w.end(), pivot, less);
    ASSERT_TRUE(std::all_of(w.begin(), t, [&](int x) { return x <= pivot; })) << "scalar, round " << round;
    ASSERT_TRUE(std::all_of(t, w.end(), [&](int x) { return x >= pivot; })) << "scalar, round " << round;
    std::sort(v.begin(), v.end());
    std::sort(w.begin(), w.end());
    ASSERT_EQ(v, w) << "both permutations of the input";
  }
}

// The shared partition step against the same postcondition, with 1 to 8 blocks on ranges as small as one element.
TEST(parallel_hoare_partition, splits_around_the_pivot_like_the_serial_step) {
  taskpipe::executor ex{{.workers = 2}};
  std::mt19937 rng{6};
  auto less = std::less<>{};
  for (int round = 0; round < 3'000; ++round) {
    const std::size_t n = 1 + rng() % 3'000;
    const std::size_t parts = 1 + rng() % 8;
    std::vector<int> v(n);
    const auto keys = static_cast<unsigned>(1 + rng() % 50);
    for (auto& x : v) {
      x = static_cast<int>(rng() % keys);
    }
    const int pivot = v.front();
    auto sorted_before = v;
    std::sort(sorted_before.begin(), sorted_before.end());
    const auto mid = taskpipe::detail::parallel_hoare_partition(ex, v.begin(), v.end(), less, parts, {});
    ASSERT_EQ(*mid, pivot) << "round " << round;
    ASSERT_TRUE(std::all_of(v.begin(), mid, [&](int x) { return x <= pivot; })) << "round " << round;
    ASSERT_TRUE(std::all_of(mid + 1, v.end(), [&](int x) { return x >= pivot; })) << "round " << round;
    std::sort(v.begin(), v.end());
    ASSERT_EQ(v, sorted_before) << "a permutation of the input";
  }
}

}  // namespace
