// taskpipe/algorithm/parallel_scan.hpp — prefix sums over a range, in parallel (inclusive and exclusive).
//
// - parallel_inclusive_scan(ex, first, last, d_first, op):       out[i] = x0 op ... op xi
// - parallel_inclusive_scan(ex, first, last, d_first, op, init): out[i] = init op x0 op ... op xi
// - parallel_exclusive_scan(ex, first, last, d_first, init, op): out[i] = init op x0 op ... op x(i-1), out[0] = init
// Like std::inclusive_scan / std::exclusive_scan (same argument order), but `op` need only be associative: it is
// always applied with the earlier part of the range on the left. Returns the end of the output. The output may be
// the input (in place). Random-access iterators. Optional partitioner and stop_token as in parallel_for.hpp.
//
// How: chunks claimed in order, each scanned in one pass when the chunk before it has finished, else folded, joined
// to the published prefix and then written (detail/ordered_scan.hpp). The partitioner's grain is the chunk size
// (default: 2K..16K elements, cache-sized); a static partitioner makes one chunk per worker. When a chunk's thread
// stalls (descheduled on a loaded machine), the others stop waiting for it and the chunks that would have waited are
// written in a second pass instead. `op` must not wait for other tasks.
//
// Thread safety: callable from any thread, also from inside tasks of `ex`. `op` is called concurrently.
// Exceptions: the first exception thrown by `op` (or by copying values) is rethrown; chunks not yet started are
//   skipped and the output is then partly written.
// Cancellation: when `stop` is cancelled, chunks not yet started are skipped; the output is partly written.
//
// Example:
//   taskpipe::parallel_inclusive_scan(ex, v.begin(), v.end(), v.begin(), std::plus<>{});
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "taskpipe/algorithm/detail/chunks.hpp"
#include "taskpipe/algorithm/detail/ordered_scan.hpp"
#include "taskpipe/algorithm/partitioner.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe {

namespace detail {

// Scans [first, last) into d_first; `init` (if any) is folded in front. `exclusive` shifts the output by one.
template <class T, class It, class Out, class Op>
Out scan(executor& ex, It first, It last, Out d_first, Op& op, std::optional<T> init, bool exclusive, partitioner p,
         stop_token stop) {
  const auto n = static_cast<std::size_t>(last - first);
  if (n == 0) {
    return d_first;
  }
  on_worker(ex, [&](caller_hand_off& hand_off) {
    const std::size_t workers = ex.num_workers();
    // Chunks small enough that a chunk read twice is still in cache the second time; a static partitioner asks
    // for one chunk per worker instead.
    std::size_t size = std::clamp<std::size_t>(n / (8 * workers), 2048, std::size_t{16} * 1024);
    if (p.grain != 0) {
      size = p.grain;
    } else if (p.mode == partitioner::kind::fixed) {
      size = (n + workers - 1) / workers;
    }
    ordered_scan<T, It, Out, Op> scan{first, d_first, n, size, op, std::move(init), exclusive};
    (void)scan.run(ex, stop, hand_off);
  });
  return d_first + static_cast<std::iter_difference_t<Out>>(n);
}

}  // namespace detail

template <std::random_access_iterator It, std::random_access_iterator Out, class Op>
Out parallel_inclusive_scan(executor& ex, It first, It last, Out d_first, Op op, partitioner p = {},
                            stop_token stop = {}) {
  using T = std::iter_value_t<It>;
  return detail::scan<T>(ex, first, last, d_first, op, std::optional<T>{}, false, p, stop);
}

template <std::random_access_iterator It, std::random_access_iterator Out, class Op, class T>
Out parallel_inclusive_scan(executor& ex, It first, It last, Out d_first, Op op, T init, partitioner p = {},
                            stop_token stop = {}) {
  return detail::scan<T>(ex, first, last, d_first, op, std::optional<T>{std::move(init)}, false, p, stop);
}

template <std::random_access_iterator It, std::random_access_iterator Out, class T, class Op>
Out parallel_exclusive_scan(executor& ex, It first, It last, Out d_first, T init, Op op, partitioner p = {},
                            stop_token stop = {}) {
  return detail::scan<T>(ex, first, last, d_first, op, std::optional<T>{std::move(init)}, true, p, stop);
}

}  // namespace taskpipe
