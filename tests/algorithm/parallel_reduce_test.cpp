// parallel_reduce / parallel_transform_reduce against std::accumulate on random inputs, with a non-commutative
// operation, under every partitioner and worker count; exceptions and cancellation.
#include "taskpipe/algorithm/parallel_reduce.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/algorithm_oracles.hpp"
#include "taskpipe/algorithm/parallel_for.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace {

using taskpipe::test::all_partitioners;
using taskpipe::test::interesting_sizes;
using taskpipe::test::mat2;
using taskpipe::test::mat2_mul;

class parallel_reduce_workers : public testing::TestWithParam<std::size_t> {};

TEST_P(parallel_reduce_workers, non_commutative_fold_equals_std_accumulate) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() + 1};
  for (const std::size_t n : interesting_sizes()) {
    const auto v = taskpipe::test::random_mats(rng, n);
    const mat2 init{2, 1, 1, 1};
    const mat2 expect = std::accumulate(v.begin(), v.end(), init, mat2_mul{});
    for (const auto& p : all_partitioners()) {
      ASSERT_EQ(taskpipe::parallel_reduce(ex, v.begin(), v.end(), init, mat2_mul{}, p), expect) << "n=" << n;
    }
  }
}

TEST_P(parallel_reduce_workers, transform_reduce_equals_std_transform_reduce) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() + 2};
  for (const std::size_t n : interesting_sizes()) {
    std::vector<long> v(n);
    for (auto& x : v) {
      x = static_cast<long>(rng() % 1000) - 500;
    }
    const long expect = std::transform_reduce(v.begin(), v.end(), 7L, std::plus<>{}, [](long x) { return x * x; });
    for (const auto& p : all_partitioners()) {
      ASSERT_EQ(taskpipe::parallel_transform_reduce(
                    ex, v.begin(), v.end(), 7L, std::plus<>{}, [](long x) { return x * x; }, p),
                expect)
          << "n=" << n;
    }
    // A string concatenation: associative, not commutative, and moves values around.
    std::vector<std::string> words(n % 300);
    for (std::size_t i = 0; i < words.size(); ++i) {
      words[i] = std::to_string(i) + ",";
    }
    const std::string joined = std::accumulate(words.begin(), words.end(), std::string("<"));
    ASSERT_EQ(taskpipe::parallel_reduce(ex, words.begin(), words.end(), std::string("<"), std::plus<>{},
                                        taskpipe::auto_partitioner(1)),
              joined);
  }
}

TEST_P(parallel_reduce_workers, an_exception_in_the_operation_reaches_the_caller) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() + 3};
  for (int round = 0; round < 100; ++round) {
    const std::size_t n = 1 + rng() % 20'000;
    std::vector<int> v(n, 1);
    v[rng() % n] = -1;
    EXPECT_THROW(taskpipe::parallel_transform_reduce(ex, v.begin(), v.end(), 0, std::plus<>{},
                                                     [](int x) {
                                                       if (x < 0) {
                                                         throw std::domain_error("negative");
                                                       }
                                                       return x;
                                                     }),
                 std::domain_error);
  }
}

INSTANTIATE_TEST_SUITE_P(workers, parallel_reduce_workers, testing::Values(1U, 2U, 8U));

TEST(parallel_reduce, nested_inside_tasks_and_cancelled) {
  taskpipe::executor ex{{.workers = 2}};
  std::vector<int> v(10'000, 1);
  std::vector<int> sums(64);
  taskpipe::parallel_for(ex, std::size_t{0}, sums.size(), [&](std::size_t i) {
    sums[i] = taskpipe::parallel_reduce(ex, v.begin(), v.end(), static_cast<int>(i));
  });
  for (std::size_t i = 0; i < sums.size(); ++i) {
    EXPECT_EQ(sums[i], 10'000 + static_cast<int>(i));
  }
  taskpipe::task_group g{ex};
  g.cancel();
  EXPECT_EQ(taskpipe::parallel_reduce(ex, v.begin(), v.end(), 5, std::plus<>{}, {}, g.get_stop_token()), 5);
  g.wait();
}

}  // namespace
