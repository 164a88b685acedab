// taskpipe/nn/detail/parallel.hpp — how the ops split their work into tasks on an executor.
//
// An op hands `for_blocks` a range of n items (rows, columns, (batch, head) pairs) and a body f(begin, end). Without
// an executor, or with one worker, or when the range is small, the body runs once inline over the whole range (no
// task overhead, and the GEMMs keep their full shape). Otherwise the range is cut into one block per worker (block
// starts rounded to `align`, so GEMM blocks keep whole micro-kernel panels), blocks 1.. are spawned and block 0 runs
// on the calling thread; the call returns when every block has finished. Blocks write disjoint outputs, and the ops
// never split a summed dimension, so each output element is computed by one block in one order.
#pragma once

#include <algorithm>
#include <cstddef>

#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::nn::detail {

/// How many blocks `for_blocks` cuts n items into (at least `min_block` items each, at most one per worker).
inline std::size_t block_count(const executor* ex, std::size_t n, std::size_t min_block) noexcept {
  if (ex == nullptr || n == 0) {
    return 1;
  }
  const std::size_t by_size = std::max<std::size_t>(1, n / std::max<std::size_t>(1, min_block));
  return std::max<std::size_t>(1, std::min(ex->num_workers(), by_size));
}

template <class F>
void for_blocks(executor* ex, std::size_t n, std::size_t min_block, std::size_t align, F&& f) {
  const std::size_t k = block_count(ex, n, min_block);
  if (k <= 1) {
    if (n != 0) {
      f(std::size_t{0}, n);
    }
    return;
  }
  align = std::max<std::size_t>(1, align);
  auto bound = [&](std::size_t i) {
    if (i >= k) {
      return n;
    }
    const std::size_t raw = n * i / k;
    return std::min(n, (raw + align / 2) / align * align);
  };
  task_group g{*ex};
  for (std::size_t i = 1; i < k; ++i) {
    const std::size_t b = bound(i);
    const std::size_t e = bound(i + 1);
    if (b < e) {
      g.spawn([&f, b, e] { f(b, e); });
    }
  }
  if (const std::size_t e = bound(1); e > 0) {
    f(std::size_t{0}, e);
  }
  g.wait();
}

}  // namespace taskpipe::nn::detail
