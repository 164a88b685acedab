// taskpipe/algorithm/parallel_sort.hpp — sort a range in parallel.
//
// parallel_sort(ex, first, last[, comp]) sorts [first, last) into ascending order by `comp` (default std::less<>),
// like std::sort: not stable, in place (no extra memory), for random-access iterators over swappable elements. A
// parallel quicksort (detail/quick_sort.hpp); ranges below a few thousand elements are sorted with
// std::sort on the calling thread.
//
// Thread safety: callable from any thread, also from inside tasks of `ex`. `comp` is called concurrently.
// Exceptions: the first exception thrown by `comp` (or by moving elements) is rethrown once the other tasks stopped;
//   the range then holds its elements in an unspecified order.
// Cancellation: when `stop` is cancelled, parts not yet started are skipped and the range is left in an unspecified
//   order (a permutation of the input).
//
// Example:
//   taskpipe::parallel_sort(ex, v.begin(), v.end(), [](const rec& a, const rec& b) { return a.key < b.key; });
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <type_traits>

#include "taskpipe/algorithm/detail/chunks.hpp"
#include "taskpipe/algorithm/detail/quick_sort.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {

template <std::random_access_iterator It, class Comp = std::less<>>
void parallel_sort(executor& ex, It first, It last, Comp comp = {}, stop_token stop = {}) {
  constexpr std::size_t serial_below = std::size_t{8} * 1024;
  if (!(first < last)) {
    return;
  }
  const auto n = static_cast<std::size_t>(last - first);
  if (n < serial_below || ex.num_workers() == 1) {
    std::sort(first, last, comp);
    return;
  }
  detail::on_worker(ex, [&](detail::caller_hand_off& /*woken when the sort returns*/) {
    // Pieces small enough that every worker finds some to steal and that std::sort finishes each one in cache (about
    // 128 per worker), big enough to pay for their task (at least 2048 elements).
    const std::size_t cutoff = std::max<std::size_t>(serial_below / 4, n / (256 * ex.num_workers()));
    detail::quick_sort(ex, first, last, comp, cutoff, detail::quick_sort_depth_limit(n), stop);
  });
}

}  // namespace taskpipe
