// algorithm/detail/quick_sort.hpp — the parallel quicksort behind parallel_sort.
//
// Why quicksort: it sorts in place (no buffer, no page faults on fresh memory) and every partition step leaves two
// independent pieces, so there are always pieces for an idle worker to steal, even when another worker is slowed down
// by a busy machine (a merge sort's leaves are indivisible once started).
//
// Each step picks a pseudo-median of nine as the pivot and splits the range in one pass from both ends (Hoare's
// scheme): the left scan stops at an element not less than the pivot, the right scan at one not greater, and the two
// are swapped. Elements equal to the pivot therefore land on both sides, so a range of equal keys splits in the middle
// rather than degenerating, and every element is compared about once per step (a three-way partition in two passes
// compared half of them twice, which cost ~10 % on string keys). The greater part is spawned, the smaller handled in
// the same loop, pieces below the cutoff go to std::sort. After 2·log2(n) steps on one path (an adversarial input
// defeating the pivot choice) the rest goes to std::sort, whose introsort bounds the work at O(n log n).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <iterator>
#include <type_traits>
#include <utility>
#include <vector>

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

/// Splits [first, last) around `pivot` (which must not be inside the range) in one pass from both ends. Returns `s`
/// with [first, s) <= pivot and [s, last) >= pivot; elements equal to the pivot may land on either side.
template <class It, class V, class Comp>
It hoare_split_scalar(It first, It last, const V& pivot, Comp& comp) {
  It i = first;
  It j = last;  // invariant: [first, i) <= pivot, [j, last) >= pivot
  for (;;) {
    while (i < j && comp(*i, pivot)) {
      ++i;
    }
    while (i < j && comp(pivot, *(j - 1))) {
      --j;
    }
    if (j - i <= 1) {
      return i;  // with one element left, *i is both >= and <= the pivot
    }
    std::iter_swap(i, j - 1);
    ++i;
    --j;
  }
}

/// hoare_split_scalar's contract without a branch per comparison (the block partition of Edelkamp and Weiß): a block
/// of 64 elements at each end is scanned first, recording only the offsets of the elements on the wrong side
/// (`count += !comp(x, pivot)`, no branch), and then the recorded pairs are swapped. On random keys the scalar loops
/// mispredict about every other comparison, which costs more than the comparison itself. The last few blocks' worth
/// is finished by the scalar loop.
template <class It, class V, class Comp>
It hoare_split_blocks(It first, It last, const V& pivot, Comp& comp) {
  using diff = std::iter_difference_t<It>;
  constexpr diff block = 64;
  std::array<unsigned char, block> wrong_left{};   // offsets from l of elements >= pivot
  std::array<unsigned char, block> wrong_right{};  // offsets back from r - 1 of elements <= pivot
  diff left_count = 0;
  diff right_count = 0;
  diff left_start = 0;
  diff right_start = 0;
  It l = first;  // [first, l) <= pivot, [r, last) >= pivot; [l, r) not yet settled
  It r = last;
  while (r - l > 2 * block) {
    if (left_count == 0) {
      left_start = 0;
      for (diff k = 0; k < block; ++k) {
        wrong_left[static_cast<std::size_t>(left_count)] = static_cast<unsigned char>(k);
        left_count += static_cast<diff>(!comp(l[k], pivot));
      }
    }
    if (right_count == 0) {
      right_start = 0;
      for (diff k = 0; k < block; ++k) {
        wrong_right[static_cast<std::size_t>(right_count)] = static_cast<unsigned char>(k);
        right_count += static_cast<diff>(!comp(pivot, *(r - 1 - k)));
      }
    }
    const diff pairs = std::min(left_count, right_count);
    for (diff k = 0; k < pairs; ++k) {
      std::iter_swap(l + wrong_left[static_cast<std::size_t>(left_start + k)],
                     r - 1 - wrong_right[static_cast<std::size_t>(right_start + k)]);
    }
    left_count -= pairs;
    right_count -= pairs;
    left_start += pairs;
    right_start += pairs;
    if (left_count == 0) {
      l += block;  // every element of the block is now <= pivot
    }
    if (right_count == 0) {
      r -= block;
    }
  }
  // A block still holding unswapped offsets lies inside [l, r); the scalar loop settles the rest, whatever its state.
  return hoare_split_scalar(l, r, pivot, comp);
}

/// Element types whose comparison is cheap enough that a mispredicted branch costs more than it.
template <class It>
inline constexpr bool cheap_to_compare =
    std::is_arithmetic_v<std::iter_value_t<It>> || std::is_pointer_v<std::iter_value_t<It>>;

template <class It, class V, class Comp>
It hoare_split(It first, It last, const V& pivot, Comp& comp) {
  if constexpr (cheap_to_compare<It>) {
    return hoare_split_blocks(first, last, pivot, comp);
  } else {
    return hoare_split_scalar(first, last, pivot, comp);
  }
}

/// Partitions [first, last) (at least 1 element) around the pivot stored at `first`. Returns `mid` with
/// [first, mid) <= pivot, *mid == pivot (the pivot itself, moved there) and [mid + 1, last) >= pivot.
template <class It, class Comp>
It hoare_partition(It first, It last, Comp& comp) {
  const It mid = hoare_split(first + 1, last, *first, comp) - 1;
  std::iter_swap(first, mid);
  return mid;
}

/// hoare_partition's contract, with the work shared by the workers: [first + 1, last) is cut into `parts` blocks, each
/// split around the pivot by its own task, and then the elements on the wrong side of the global boundary are swapped
/// across it (serially: about a quarter of the range, each element moved once, no comparisons). Used for the few
/// largest ranges, whose partition would otherwise leave all but one worker idle.
template <class It, class Comp>
It parallel_hoare_partition(executor& ex, It first, It last, Comp& comp, std::size_t parts, stop_token stop) {
  using diff = std::iter_difference_t<It>;
  const It body = first + 1;
  const auto n = static_cast<std::size_t>(last - body);
  auto block_begin = [&](std::size_t k) { return body + static_cast<diff>(n * k / parts); };
  std::vector<It> splits(parts, body);
  {
    task_group g{ex, stop};
    try {
      for (std::size_t k = 1; k < parts; ++k) {
        g.spawn([&, k] { splits[k] = hoare_split(block_begin(k), block_begin(k + 1), *first, comp); });
      }
      splits[0] = hoare_split(block_begin(0), block_begin(1), *first, comp);
    } catch (...) {
      g.cancel();
      g.wait();
      throw;
    }
    g.wait();
  }
  if (stop.stop_requested()) {
    return first;  // blocks may have been skipped: leave the range as it is (a permutation), the caller stops too
  }
  // Block k is now [lo_k, splits[k]) <= pivot, [splits[k], hi_k) >= pivot. The global boundary is body + (number of
  // elements <= pivot); "high" pieces left of it trade places with "low" pieces right of it, pairwise in order.
  diff low_total = 0;
  for (std::size_t k = 0; k < parts; ++k) {
    low_total += splits[k] - block_begin(k);
  }
  const It boundary = body + low_total;
  std::vector<std::pair<It, It>> wrong_left;   // >= pivot, left of the boundary
  std::vector<std::pair<It, It>> wrong_right;  // <= pivot, right of the boundary
  for (std::size_t k = 0; k < parts; ++k) {
    const It lo = block_begin(k);
    const It hi = block_begin(k + 1);
    if (splits[k] < boundary) {
      wrong_left.emplace_back(splits[k], std::min(hi, boundary));
    }
    if (boundary < splits[k]) {
      wrong_right.emplace_back(std::max(lo, boundary), splits[k]);
    }
  }
  auto right = wrong_right.begin();
  for (auto [l, l_end] : wrong_left) {
    while (l < l_end) {  // the two lists hold the same number of elements, so `right` never runs out here
      const diff step = std::min(l_end - l, right->second - right->first);
      std::swap_ranges(l, l + step, right->first);
      l += step;
      right->first += step;
      if (right->first == right->second) {
        ++right;
      }
    }
  }
  const It mid = boundary - 1;
  std::iter_swap(first, mid);
  return mid;
}

/// Steps one path may take before handing its range to std::sort: 2 * floor(log2(n)) + 2.
inline unsigned quick_sort_depth_limit(std::size_t n) noexcept {
  return 2U * static_cast<unsigned>(std::bit_width(n)) + 2U;
}

/// Ranges at least this long are partitioned by all workers together (parallel_hoare_partition).
inline constexpr std::size_t parallel_partition_above = std::size_t{1} << 18;

template <class It, class Comp>
void quick_sort(executor& ex, It first, It last, Comp& comp, std::size_t cutoff, unsigned depth_left, stop_token stop) {
  task_group g{ex, stop};
  try {
    while (static_cast<std::size_t>(last - first) > cutoff && depth_left > 0 && !g.is_cancelling()) {
      --depth_left;
      std::iter_swap(first, pseudo_median_of_nine(first, static_cast<std::size_t>(last - first), comp));
      const std::size_t size = static_cast<std::size_t>(last - first);
      const It mid = size >= parallel_partition_above && ex.num_workers() > 1
                         ? parallel_hoare_partition(ex, first, last, comp, ex.num_workers(), g.get_stop_token())
                         : hoare_partition(first, last, comp);
      // The larger part is spawned, so that a thief takes the bigger piece; this loop goes on with the smaller one.
      It small_first = first;
      It small_last = mid;
      It large_first = mid + 1;
      It large_last = last;
      if (small_last - small_first > large_last - large_first) {
        std::swap(small_first, large_first);
        std::swap(small_last, large_last);
      }
      if (static_cast<std::size_t>(large_last - large_first) > cutoff) {
        g.spawn([&ex, large_first, large_last, &comp, cutoff, depth_left](stop_token s) {
          quick_sort(ex, large_first, large_last, comp, cutoff, depth_left, s);
        });
      } else {
        std::sort(large_first, large_last, comp);
      }
      first = small_first;
      last = small_last;
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
