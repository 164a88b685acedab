// Parallel algorithms: fill, transform, reduce, scan and sort ten million numbers, each checked against std::.
#include <taskpipe/taskpipe.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

int main() {
  taskpipe::executor ex;  // one worker per hardware thread
  const std::size_t n = 10'000'000;
  std::vector<std::uint64_t> v(n);

  taskpipe::parallel_for(ex, std::size_t{0}, n, [&](std::size_t i) { v[i] = (i * 2654435761U) % 1000; });
  taskpipe::parallel_for_each(
      ex, v.begin(), v.end(), [](std::uint64_t& x) { x = x * x; }, taskpipe::static_partitioner());

  const auto sum = taskpipe::parallel_reduce(ex, v.begin(), v.end(), std::uint64_t{0});
  std::printf("sum of squares: %llu (std: %llu)\n", static_cast<unsigned long long>(sum),
              static_cast<unsigned long long>(std::accumulate(v.begin(), v.end(), std::uint64_t{0})));

  std::vector<std::uint64_t> prefix(n);
  taskpipe::parallel_inclusive_scan(ex, v.begin(), v.end(), prefix.begin(), std::plus<>{});
  std::printf("last prefix sum equals the sum: %s\n", prefix.back() == sum ? "yes" : "no");

  taskpipe::parallel_sort(ex, v.begin(), v.end(), std::greater<>{});
  std::printf("sorted descending: %s, largest %llu\n",
              std::is_sorted(v.begin(), v.end(), std::greater<>{}) ? "yes" : "no",
              static_cast<unsigned long long>(v.front()));
  return prefix.back() == sum && std::is_sorted(v.begin(), v.end(), std::greater<>{}) ? 0 : 1;
}
