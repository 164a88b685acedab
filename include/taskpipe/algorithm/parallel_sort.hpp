// taskpipe/algorithm/parallel_sort.hpp — sort a range in parallel.
//
// parallel_sort(ex, first, last[, comp]) sorts [first, last) into ascending order by `comp` (default std::less<>),
// like std::sort: not stable. Random-access iterators; the element type must be default-constructible and
// move-assignable (a temporary buffer of the same size is used: n extra elements of memory). Ranges below a few
// thousand elements are sorted with std::sort on the calling thread.
//
// Thread safety: callable from any thread, also from inside tasks of `ex`. `comp` is called concurrently.
// Exceptions: the first exception thrown by `comp` (or by moving elements) is rethrown once the other tasks stopped;
//   the range then holds its elements in an unspecified order, some possibly moved-from.
// Cancellation: when `stop` is cancelled, parts not yet started are skipped and the range is left in an unspecified
//   order (elements may be moved-from).
//
// Example:
//   taskpipe::parallel_sort(ex, v.begin(), v.end(), [](const rec& a, const rec& b) { return a.key < b.key; });
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <type_traits>

#include "taskpipe/algorithm/detail/chunks.hpp"
#include "taskpipe/algorithm/detail/merge_sort.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {

template <std::random_access_iterator It, class Comp = std::less<>>
void parallel_sort(executor& ex, It first, It last, Comp comp = {}, stop_token stop = {}) {
  using value = std::iter_value_t<It>;
  static_assert(std::is_default_constructible_v<value> && std::is_move_assignable_v<value>,
                "taskpipe::parallel_sort: the element type must be default-constructible and move-assignable");
  constexpr std::size_t serial_below = std::size_t{8} * 1024;
  if (!(first < last)) {
    return;
  }
  const auto n = static_cast<std::size_t>(last - first);
  if (n < serial_below || ex.num_workers() == 1) {
    std::sort(first, last, comp);
    return;
  }
  detail::on_worker(ex, [&] {
    // Default-initialised, not value-initialised: for trivial types the buffer is never written before use.
    std::unique_ptr<value[]> buffer(new value[n]);
    // One leaf per worker: every merge level costs a full pass over memory, so fewer levels beat finer balance.
    const std::size_t leaf = std::max<std::size_t>(serial_below, (n + ex.num_workers() - 1) / ex.num_workers());
    detail::merge_sort(ex, first, buffer.get(), n, false, leaf, comp, stop);
  });
}

}  // namespace taskpipe
