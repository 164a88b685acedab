// White-box: building a graph takes no heap allocation per task. N tasks with callables of up to 32 bytes and at
// most two successors each take at most log2(N) + N/4096 + 1 allocations (the graph's node chunks). This binary
// replaces the global operator new to count allocations, so it is built on its own.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/counting_new.hpp"
#include "taskpipe/graph/graph.hpp"

namespace {

long bound(long n) { return static_cast<long>(std::ceil(std::log2(static_cast<double>(n)))) + n / 4096 + 1; }

TEST(graph_alloc, a_wavefront_takes_one_allocation_per_chunk_not_per_task) {
  constexpr int side = 256;
  std::vector<taskpipe::task_handle> cells(side * side);  // allocated before counting
  std::vector<double> m(side * side, 1.0);
  taskpipe::graph g;
  const long before = taskpipe::test::allocations_so_far();
  for (int i = 0; i < side; ++i) {
    for (int j = 0; j < side; ++j) {
      auto& c = cells[static_cast<std::size_t>(i * side + j)];
      c = g.emplace([&m, i, j] { m[static_cast<std::size_t>(i * side + j)] += 1.0; });
      if (i > 0) {
        cells[static_cast<std::size_t>((i - 1) * side + j)].precede(c);
      }
      if (j > 0) {
        cells[static_cast<std::size_t>(i * side + j - 1)].precede(c);
      }
    }
  }
  const long allocs = taskpipe::test::allocations_so_far() - before;
  EXPECT_GE(allocs, 1) << "the graph's arena allocates chunks: a count of 0 means the counter is not in effect";
  EXPECT_LE(allocs, bound(side * side)) << allocs << " allocations for " << side * side << " tasks";
}

TEST(graph_alloc, placeholders_linearized_take_one_allocation_per_chunk) {
  constexpr long n = 1L << 16;
  std::vector<taskpipe::task_handle> t(n);
  taskpipe::graph g;
  const long before = taskpipe::test::allocations_so_far();
  for (auto& h : t) {
    h = g.placeholder();
  }
  g.linearize(t);
  for (auto& h : t) {
    h.work([] {});
  }
  const long allocs = taskpipe::test::allocations_so_far() - before;
  EXPECT_GE(allocs, 1) << "the graph's arena allocates chunks: a count of 0 means the counter is not in effect";
  EXPECT_LE(allocs, bound(n)) << allocs << " allocations for " << n << " tasks";
  EXPECT_EQ(g.size(), static_cast<std::size_t>(n));
}

TEST(graph_alloc, destroying_a_graph_frees_chunks_not_tasks) {
  constexpr long n = 1L << 14;
  auto g = std::make_unique<taskpipe::graph>();
  for (long i = 0; i < n; ++i) {
    g->emplace([] {});
  }
  const long before = taskpipe::test::allocations_so_far();
  g.reset();
  EXPECT_EQ(taskpipe::test::allocations_so_far() - before, 0);
}

}  // namespace
