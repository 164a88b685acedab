// Dependent async: a DAG that grows while it runs. Each row of Pascal's triangle is computed by tasks that depend
// on the two tasks above them, submitted before those have finished.
#include <taskpipe/taskpipe.hpp>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <vector>

int main() {
  taskpipe::executor ex{{.workers = 2}};
  constexpr std::size_t rows = 30;

  std::vector<taskpipe::async_task<std::uint64_t>> row{ex.dependent_async([] { return std::uint64_t{1}; })};
  for (std::size_t r = 1; r < rows; ++r) {
    std::vector<taskpipe::async_task<std::uint64_t>> next;
    next.push_back(ex.dependent_async([] { return std::uint64_t{1}; }));
    for (std::size_t k = 1; k < r; ++k) {
      const auto& up_left = row[k - 1];
      const auto& up = row[k];
      // The tasks above have finished when this one runs, so get() returns at once.
      next.push_back(ex.dependent_async([up_left, up] { return up_left.get() + up.get(); }, up_left, up));
    }
    next.push_back(ex.dependent_async([] { return std::uint64_t{1}; }));
    row = std::move(next);
  }
  std::uint64_t sum = 0;
  for (const auto& t : row) {
    sum += t.get();
  }
  std::printf("row %zu of Pascal's triangle sums to %llu (2^%zu)\n", rows - 1, static_cast<unsigned long long>(sum),
              rows - 1);

  // A failure reaches every task downstream, which is skipped.
  auto bad = ex.dependent_async([]() -> int { throw std::runtime_error("sensor offline"); });
  auto downstream = ex.dependent_async([] { std::puts("never printed"); }, bad);
  try {
    downstream.get();
  } catch (const std::exception& e) {
    std::printf("downstream failed: %s\n", e.what());
  }
  return sum == (std::uint64_t{1} << (rows - 1)) ? 0 : 1;
}
