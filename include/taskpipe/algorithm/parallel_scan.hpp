// taskpipe/algorithm/parallel_scan.hpp — prefix sums over a range, in parallel (inclusive and exclusive).
//
// - parallel_inclusive_scan(ex, first, last, d_first, op):       out[i] = x0 op ... op xi
// - parallel_inclusive_scan(ex, first, last, d_first, op, init): out[i] = init op x0 op ... op xi
// - parallel_exclusive_scan(ex, first, last, d_first, init, op): out[i] = init op x0 op ... op x(i-1), out[0] = init
// Like std::inclusive_scan / std::exclusive_scan (same argument order), but `op` need only be associative: it is
// always applied with the earlier part of the range on the left. Returns the end of the output. The output may be
// the input (in place). Random-access iterators. Optional partitioner and stop_token as in parallel_for.hpp.
//
// How: two passes over chunks. The first folds every chunk but the last; a short serial pass turns those sums into
// each chunk's carry-in; the second scans every chunk from its carry.
//
// Thread safety: callable from any thread, also from inside tasks of `ex`. `op` is called concurrently.
// Exceptions: the first exception thrown by `op` (or by copying values) is rethrown; chunks not yet started are
//   skipped and the output is then partly written.
// Cancellation: when `stop` is cancelled, chunks not yet started are skipped; the output is partly written.
//
// Example:
//   taskpipe::parallel_inclusive_scan(ex, v.begin(), v.end(), v.begin(), std::plus<>{});
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "taskpipe/algorithm/detail/chunks.hpp"
#include "taskpipe/algorithm/partitioner.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {

namespace detail {

// Scans [first, last) into d_first; `init` (if any) is folded in front. `exclusive` shifts the output by one.
template <class T, class It, class Out, class Op>
Out scan(executor& ex, It first, It last, Out d_first, Op& op, std::optional<T> init, bool exclusive, partitioner p,
         stop_token stop) {
  using diff = std::iter_difference_t<It>;
  using out_diff = std::iter_difference_t<Out>;
  const auto n = static_cast<std::size_t>(last - first);
  if (n == 0) {
    return d_first;
  }
  on_worker(ex, [&] {
    const auto plan = chunk_plan::make(n, ex.num_workers(), p, 4096);
    const std::size_t chunks = plan.size();
    // carry[c]: the fold of everything before chunk c (and init), empty when nothing precedes it.
    std::vector<std::optional<T>> carry(chunks);
    carry[0] = std::move(init);
    if (chunks > 1) {
      std::vector<std::optional<T>> sums(chunks);
      auto fold = [first, &op, &sums, chunks](std::size_t c, std::size_t lo, std::size_t hi) {
        if (c + 1 == chunks) {
          return;  // nothing follows the last chunk
        }
        It it = first + static_cast<diff>(lo);
        const It end = first + static_cast<diff>(hi);
        T acc = static_cast<T>(*it);
        for (++it; it != end; ++it) {
          acc = op(std::move(acc), *it);
        }
        sums[c].emplace(std::move(acc));
      };
      run_chunks(ex, plan, stop, fold);
      for (std::size_t c = 1; c < chunks; ++c) {
        if (!sums[c - 1]) {
          return;  // cancelled: a chunk was skipped, so later carries are unknown
        }
        carry[c] = carry[c - 1] ? op(*carry[c - 1], std::move(*sums[c - 1])) : std::move(sums[c - 1]);
      }
    }
    auto write = [first, d_first, &op, &carry, exclusive](std::size_t c, std::size_t lo, std::size_t hi) {
      It it = first + static_cast<diff>(lo);
      const It end = first + static_cast<diff>(hi);
      Out out = d_first + static_cast<out_diff>(lo);
      std::optional<T>& in = carry[c];
      if (exclusive) {
        // in is set: an exclusive scan always has init, and it reaches every carry.
        T acc = *in;
        for (; it != end; ++it, ++out) {
          T next = op(acc, *it);  // read *it before writing *out: they may be the same element
          *out = std::move(acc);
          acc = std::move(next);
        }
        return;
      }
      T acc = in ? op(*in, *it) : static_cast<T>(*it);
      *out = acc;
      for (++it, ++out; it != end; ++it, ++out) {
        acc = op(std::move(acc), *it);
        *out = acc;
      }
    };
    run_chunks(ex, plan, stop, write);
  });
  return d_first + static_cast<out_diff>(n);
}

}  // namespace detail

template <std::random_access_iterator It, std::random_access_iterator Out, class Op>
Out parallel_inclusive_scan(executor& ex, It first, It last, Out d_first, Op op, partitioner p = {}, stop_token stop = {}) {
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
