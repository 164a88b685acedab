// taskpipe/algorithm/parallel_reduce.hpp — fold a range with an associative operation, in parallel.
//
// - parallel_reduce(ex, first, last, init, op): init op x0 op x1 op ... op x(n-1).
// - parallel_transform_reduce(ex, first, last, init, op, t): init op t(x0) op ... op t(x(n-1)).
// `op` must be associative; unlike std::reduce it need not be commutative: operands are only ever combined in range
// order (a chunk folds its two halves side by side, each left to right, then joins them as left op right; the chunk
// results are combined in range order). `t` is called once per element, in no particular order. An empty range
// gives `init`. Random-access iterators; `T` must be copy- or move-constructible. Optional partitioner and
// stop_token as in parallel_for.hpp.
//
// Thread safety: callable from any thread, also from inside tasks of `ex`. `op` and `t` are called concurrently.
// Exceptions: the first exception thrown by `op` or `t` is rethrown; chunks not yet started are skipped.
// Cancellation: when `stop` is cancelled, chunks not yet started are skipped and the result folds only the chunks
//   that ran (a partial result).
//
// Example:
//   double sum = taskpipe::parallel_reduce(ex, v.begin(), v.end(), 0.0, std::plus<>{});
//   auto dot = taskpipe::parallel_transform_reduce(ex, idx.begin(), idx.end(), 0.0, std::plus<>{},
//                                                  [&](std::size_t i) { return x[i] * y[i]; });
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "taskpipe/algorithm/detail/chunk_loops.hpp"
#include "taskpipe/algorithm/detail/chunks.hpp"
#include "taskpipe/algorithm/partitioner.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {

template <std::random_access_iterator It, class T, class Op, class Transform>
T parallel_transform_reduce(executor& ex, It first, It last, T init, Op op, Transform t, partitioner p = {},
                            stop_token stop = {}) {
  if (!(first < last)) {
    return init;
  }
  const auto n = static_cast<std::size_t>(last - first);
  return detail::on_worker(ex, [&](detail::caller_hand_off& hand_off) -> T {
    // A chunk of a cheap fold must be big enough to pay for its task.
    const auto plan = detail::chunk_plan::make(n, ex.num_workers(), p, 1024);
    std::vector<std::optional<T>> partial(plan.size());
    auto chunk = [first, &op, &t, &partial](std::size_t c, std::size_t lo, std::size_t hi) {
      partial[c].emplace(detail::fold_two_streams<T>(first, lo, hi, op, t));
    };
    detail::run_chunks(ex, plan, stop, chunk, hand_off);
    T result = std::move(init);
    for (auto& r : partial) {
      if (r) {
        result = op(std::move(result), std::move(*r));
      }
    }
    return result;
  });
}

template <std::random_access_iterator It, class T, class Op = std::plus<>>
T parallel_reduce(executor& ex, It first, It last, T init, Op op = {}, partitioner p = {}, stop_token stop = {}) {
  return parallel_transform_reduce(
      ex, first, last, std::move(init), std::move(op), [](const auto& x) -> decltype(auto) { return x; }, p, stop);
}

}  // namespace taskpipe
