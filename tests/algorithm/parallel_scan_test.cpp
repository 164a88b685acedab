// parallel_inclusive_scan / parallel_exclusive_scan against std::inclusive_scan / std::exclusive_scan, with a
// non-commutative operation, in place and out of place, under every partitioner and worker count.
#include "taskpipe/algorithm/parallel_scan.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>
#include <vector>

#include "common/algorithm_oracles.hpp"

namespace {

using taskpipe::test::all_partitioners;
using taskpipe::test::interesting_sizes;
using taskpipe::test::mat2;
using taskpipe::test::mat2_mul;

class parallel_scan_workers : public testing::TestWithParam<std::size_t> {};

TEST_P(parallel_scan_workers, inclusive_and_exclusive_equal_std) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() + 10};
  const mat2 init{1, 2, 0, 1};
  for (const std::size_t n : interesting_sizes()) {
    const auto v = taskpipe::test::random_mats(rng, n);
    std::vector<mat2> inc(n);
    std::vector<mat2> inc_init(n);
    std::vector<mat2> exc(n);
    std::inclusive_scan(v.begin(), v.end(), inc.begin(), mat2_mul{});
    std::inclusive_scan(v.begin(), v.end(), inc_init.begin(), mat2_mul{}, init);
    std::exclusive_scan(v.begin(), v.end(), exc.begin(), init, mat2_mul{});
    for (const auto& p : all_partitioners()) {
      if (n > 10'000 && p.grain != 0) {
        continue;  // small grains on big inputs add time, not coverage (sanitizer budgets)
      }
      std::vector<mat2> out(n);
      ASSERT_EQ(taskpipe::parallel_inclusive_scan(ex, v.begin(), v.end(), out.begin(), mat2_mul{}, p), out.end());
      ASSERT_EQ(out, inc) << "inclusive n=" << n;
      taskpipe::parallel_inclusive_scan(ex, v.begin(), v.end(), out.begin(), mat2_mul{}, init, p);
      ASSERT_EQ(out, inc_init) << "inclusive with init n=" << n;
      ASSERT_EQ(taskpipe::parallel_exclusive_scan(ex, v.begin(), v.end(), out.begin(), init, mat2_mul{}, p), out.end());
      ASSERT_EQ(out, exc) << "exclusive n=" << n;
      auto in_place = v;
      taskpipe::parallel_exclusive_scan(ex, in_place.begin(), in_place.end(), in_place.begin(), init, mat2_mul{}, p);
      ASSERT_EQ(in_place, exc) << "exclusive in place n=" << n;
      in_place = v;
      taskpipe::parallel_inclusive_scan(ex, in_place.begin(), in_place.end(), in_place.begin(), mat2_mul{}, p);
      ASSERT_EQ(in_place, inc) << "inclusive in place n=" << n;
    }
  }
}

TEST_P(parallel_scan_workers, an_exception_in_the_operation_reaches_the_caller) {
  taskpipe::executor ex{{.workers = GetParam()}};
  std::mt19937_64 rng{GetParam() + 11};
  for (int round = 0; round < 100; ++round) {
    const std::size_t n = 2 + rng() % 50'000;
    std::vector<long> v(n, 1);
    v[1 + rng() % (n - 1)] = -1;  // the first element of a chunk is copied, never passed to op
    std::vector<long> out(n);
    EXPECT_THROW(taskpipe::parallel_inclusive_scan(ex, v.begin(), v.end(), out.begin(),
                                                   [](long a, long b) {
                                                     if (b < 0) {
                                                       throw std::domain_error("negative");
                                                     }
                                                     return a + b;
                                                   }),
                 std::domain_error);
  }
}

INSTANTIATE_TEST_SUITE_P(workers, parallel_scan_workers, testing::Values(1U, 2U, 8U));

}  // namespace
