// algorithm/detail/merge_sort.hpp — the parallel merge sort behind parallel_sort.
//
// Why merge sort rather than quicksort: a quicksort's first partition is one serial pass over the whole range, which
// caps its speed-up; here every pass is parallel. The range is cut into about two leaves per worker, each sorted
// with std::sort at once, then merged pairwise with a parallel merge (split the longer run at its middle, find the
// split point in the other by binary search, merge both halves concurrently). Runs alternate between the range and a
// buffer of the same size, so each level moves every element once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>

#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::detail {

inline constexpr std::size_t merge_serial_below = std::size_t{16} * 1024;

// Merges the sorted runs [x, x + nx) and [y, y + ny) into out (by move).
template <class XIt, class YIt, class Out, class Comp>
void parallel_merge(executor& ex, XIt x, std::size_t nx, YIt y, std::size_t ny, Out out, Comp& comp, stop_token stop) {
  using xd = std::iter_difference_t<XIt>;
  using yd = std::iter_difference_t<YIt>;
  using od = std::iter_difference_t<Out>;
  if (nx + ny <= merge_serial_below) {
    std::merge(std::make_move_iterator(x), std::make_move_iterator(x + static_cast<xd>(nx)), std::make_move_iterator(y),
               std::make_move_iterator(y + static_cast<yd>(ny)), out, comp);
    return;
  }
  std::size_t ix = 0;
  std::size_t iy = 0;
  if (nx >= ny) {
    ix = nx / 2;
    iy = static_cast<std::size_t>(std::lower_bound(y, y + static_cast<yd>(ny), x[static_cast<xd>(ix)], comp) - y);
  } else {
    iy = ny / 2;
    ix = static_cast<std::size_t>(std::upper_bound(x, x + static_cast<xd>(nx), y[static_cast<yd>(iy)], comp) - x);
  }
  task_group g{ex, stop};
  g.spawn([&ex, x, y, ix, iy, out, &comp](stop_token s) { parallel_merge(ex, x, ix, y, iy, out, comp, s); });
  try {
    parallel_merge(ex, x + static_cast<xd>(ix), nx - ix, y + static_cast<yd>(iy), ny - iy,
                   out + static_cast<od>(ix + iy), comp, g.get_stop_token());
  } catch (...) {
    g.cancel();
    g.wait();
    throw;
  }
  g.wait();
}

// Sorts the n elements at `a`; the result ends in `a` when !into_buffer, else in `b` (which has room for n).
template <class It, class Buf, class Comp>
void merge_sort(executor& ex, It a, Buf b, std::size_t n, bool into_buffer, std::size_t leaf, Comp& comp,
                stop_token stop) {
  using ad = std::iter_difference_t<It>;
  using bd = std::iter_difference_t<Buf>;
  if (stop.stop_requested()) {
    return;
  }
  if (n <= leaf) {
    std::sort(a, a + static_cast<ad>(n), comp);
    if (into_buffer) {
      std::move(a, a + static_cast<ad>(n), b);
    }
    return;
  }
  const std::size_t half = n / 2;
  {
    task_group g{ex, stop};
    g.spawn([&ex, a, b, half, into_buffer, leaf, &comp](stop_token s) {
      merge_sort(ex, a, b, half, !into_buffer, leaf, comp, s);
    });
    try {
      merge_sort(ex, a + static_cast<ad>(half), b + static_cast<bd>(half), n - half, !into_buffer, leaf, comp,
                 g.get_stop_token());
    } catch (...) {
      g.cancel();
      g.wait();
      throw;
    }
    if (g.wait() == task_group_status::cancelled) {
      return;
    }
  }
  if (into_buffer) {  // the halves are sorted in a
    parallel_merge(ex, a, half, a + static_cast<ad>(half), n - half, b, comp, stop);
  } else {
    parallel_merge(ex, b, half, b + static_cast<bd>(half), n - half, a, comp, stop);
  }
}

}  // namespace taskpipe::detail
