// taskpipe/algorithm/partitioner.hpp — how a parallel algorithm cuts its range into chunks, and how small a chunk may
// be.
//
// - automatic (the default): about 32 chunks per worker, split recursively so idle workers steal big pieces. Fine
//   enough that a worker slowed down by a busy machine leaves at most ~1/32 of its share for the others to wait on;
//   coarse enough that a chunk's task costs nothing next to its work. Each worker starts on its own equal share (the
//   first worker on the first share, and so on), so repeated calls over the same data find it in the same worker's
//   caches. Good for most bodies, cheap or costly, even or uneven.
// - static: one equal chunk per worker, no further balancing. Least overhead for cheap, even bodies.
// - dynamic (guided): chunks that shrink as the range is used up (remaining / (2 × workers), never below the
//   grain), handed out in order from a shared cursor. Best for bodies whose cost varies a lot.
// The grain is the smallest chunk (in elements) worth a task of its own; 0 lets the algorithm choose (1 element, or
// more where the algorithm knows better).
//
// Thread safety: a plain value. Example:
//   taskpipe::parallel_for(ex, 0, n, body, taskpipe::dynamic_partitioner(64));
#pragma once

#include <cstddef>
#include <cstdint>

namespace taskpipe {

struct partitioner {
  enum class kind : std::uint8_t { automatic, fixed, guided };
  kind mode = kind::automatic;
  std::size_t grain = 0;
};

[[nodiscard]] constexpr partitioner auto_partitioner(std::size_t grain = 0) noexcept {
  return {partitioner::kind::automatic, grain};
}
[[nodiscard]] constexpr partitioner static_partitioner(std::size_t grain = 0) noexcept {
  return {partitioner::kind::fixed, grain};
}
[[nodiscard]] constexpr partitioner dynamic_partitioner(std::size_t grain = 0) noexcept {
  return {partitioner::kind::guided, grain};
}

}  // namespace taskpipe
