// The fork-join workloads that `taskpipe bench` and bench/forkjoin.cpp time (bench/workloads/forkjoin.hpp): each
// computes the right answer on taskpipe, so that a benchmark never times a wrong or truncated computation. matmul is
// checked element by element against a plain triple loop, padding included (it must stay untouched).
#include "forkjoin.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "taskpipe/runtime/executor.hpp"

namespace {

namespace wl = taskpipe::workloads;

TEST(forkjoin_workloads, fib_skynet_nqueens_match_their_oracles) {
  taskpipe::executor ex{{.workers = 2}};
  wl::taskpipe_forker fk{&ex};
  wl::serial_forker serial;
  EXPECT_EQ(ex.async([&] { return wl::fib(fk, 20); }).get(), 6765);
  EXPECT_EQ(wl::fib(serial, 20), 6765);
  constexpr std::int64_t n = 100'000;
  EXPECT_EQ(ex.async([&] { return wl::skynet(fk, 0, n); }).get(), n * (n - 1) / 2);
  for (int q = 4; q <= 9; ++q) {
    EXPECT_EQ(ex.async([&] { return wl::nqueens(fk, q); }).get(), wl::nqueens_solutions(q)) << "n=" << q;
  }
}

TEST(forkjoin_workloads, fib_spawns_counts_internal_nodes) {
  // fib(n) spawns once per call with n >= 2: 0 for n < 2, and s(n) = 1 + s(n - 1) + s(n - 2).
  std::vector<std::int64_t> s{0, 0};
  for (int n = 2; n <= 30; ++n) {
    s.push_back(1 + s[static_cast<std::size_t>(n - 1)] + s[static_cast<std::size_t>(n - 2)]);
    EXPECT_EQ(wl::fib_spawns(n), s.back()) << "n=" << n;
  }
}

TEST(forkjoin_workloads, matmul_equals_the_triple_loop_and_leaves_padding_alone) {
  for (std::size_t size : {wl::matmul_leaf, 4 * wl::matmul_leaf}) {
    wl::matmul_inputs in{size};
    ASSERT_EQ(in.ld, size + wl::matmul_inputs::row_padding);
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(in.a()) % 64, 0U) << "A starts on a cache line";
    taskpipe::executor ex{{.workers = 2}};
    wl::taskpipe_forker fk{&ex};
    ex.async([&] {
        wl::matmul(fk, in.a(), in.b(), in.c(), in.n, in.ld);
        return 0;
      }).get();
    double expected_sum = 0;
    for (std::size_t i = 0; i < size; ++i) {
      for (std::size_t j = 0; j < size; ++j) {
        float want = 0;
        for (std::size_t k = 0; k < size; ++k) {
          want += in.a()[i * in.ld + k] * in.b()[k * in.ld + j];
        }
        // Products are multiples of 1/8 and sums stay far below 2^24 eighths: exact in float, in any order.
        ASSERT_EQ(in.c()[i * in.ld + j], want) << "C[" << i << "][" << j << "], n=" << size;
        expected_sum += static_cast<double>(want);
      }
      for (std::size_t j = size; j < in.ld; ++j) {
        ASSERT_EQ(in.c()[i * in.ld + j], 0.0F) << "padding of row " << i << " written";
      }
    }
    EXPECT_EQ(in.c_sum(), expected_sum);
    in.clear_c();
    EXPECT_EQ(in.c_sum(), 0.0);
  }
}

}  // namespace
