// algorithm/detail/quick_sort.hpp — the parallel quicksort behind parallel_sort.
//
// Why quicksort: it sorts in place (no buffer, no page faults on fresh memory) and every partition step leaves two
// independent pieces, so there are always pieces for an idle worker to steal, even when another worker is slowed down
// by a busy machine (a merge sort's leaves are indivisible once started). Each step picks a pseudo-median of nine as
// the pivot and partitions three ways (less, equal, greater), so runs of equal keys cost nothing and every step makes
// progress; the greater part is spawned, the less part handled in the same loop, pieces below the cutoff go to
// std::sort.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>

#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::detail {

template <class It, class Comp>
It median_of_three(It a, It b, It c, Comp& comp) {
  if (comp(*a, *b)) {
    return comp(*b, *c) ? b : (comp(*a, *c) ? c : a);
  }
  return comp(*a, *c) ? a : (comp(*b, *c) ? c : b);
}

template <class It, class Comp>
It pseudo_median_of_nine(It first, std::size_t n, Comp& comp) {
  using d = std::iter_difference_t<It>;
  const auto step = static_cast<d>(n / 8);
  auto at = [first](d k) { return first + k; };
  return median_of_three(median_of_three(at(0), at(step), at(2 * step), comp),
                         median_of_three(at(3 * step), at(4 * step), at(5 * step), comp),
                         median_of_three(at(6 * step), at(7 * step), at(static_cast<d>(n) - 1), comp), comp);
}

template <class It, class Comp>
void quick_sort(executor& ex, It first, It last, Comp& comp, std::size_t cutoff, stop_token stop) {
  task_group g{ex, stop};
  try {
    while (static_cast<std::size_t>(last - first) > cutoff && !g.is_cancelling()) {
      // The pivot waits at `first` while the rest is partitioned around it, then moves between the parts.
      std::iter_swap(first, pseudo_median_of_nine(first, static_cast<std::size_t>(last - first), comp));
      const It less_end = std::partition(first + 1, last, [&](const auto& x) { return comp(x, *first); });
      const It equal_end = std::partition(less_end, last, [&](const auto& x) { return !comp(*first, x); });
      const It pivot_at = less_end - 1;
      std::iter_swap(first, pivot_at);
      // Now [first, pivot_at) < pivot, [pivot_at, equal_end) == pivot, [equal_end, last) > pivot.
      if (static_cast<std::size_t>(last - equal_end) > cutoff) {
        g.spawn(
            [&ex, equal_end, last, &comp, cutoff](stop_token s) { quick_sort(ex, equal_end, last, comp, cutoff, s); });
      } else {
        std::sort(equal_end, last, comp);
      }
      last = pivot_at;
    }
    if (!g.is_cancelling()) {
      std::sort(first, last, comp);
    }
  } catch (...) {
    g.cancel();
    g.wait();  // the first exception wins: ours, unless a spawned piece threw first
    throw;
  }
  g.wait();
}

}  // namespace taskpipe::detail
