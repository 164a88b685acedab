// algorithm/detail/chunk_loops.hpp — the loops that run inside one chunk, written so that cheap bodies pay little
// for the loop itself and independent elements can overlap in the processor.
//
// - for_each_index(lo, hi, fn): fn(i) for i in [lo, hi), in increasing order, four calls per loop test.
// - fold_two_streams(first, lo, hi, op, t): the left-to-right fold t(x[lo]) op ... op t(x[hi-1]), computed as two
//   running folds over the chunk's two halves, advanced in lockstep and joined as (left op right). That needs `op`
//   to be associative only, not commutative, and it gives the processor two independent chains of operations
//   instead of one, which is what makes a cheap fold (a sum) run at memory speed and lets two costly transforms
//   overlap.
#pragma once

#include <cstddef>
#include <iterator>
#include <utility>

namespace taskpipe::detail {

template <class Fn>
void for_each_index(std::size_t lo, std::size_t hi, Fn& fn) {
  std::size_t i = lo;
  for (; hi - i >= 4; i += 4) {
    fn(i);
    fn(i + 1);
    fn(i + 2);
    fn(i + 3);
  }
  for (; i < hi; ++i) {
    fn(i);
  }
}

/// Requires lo < hi.
template <class T, class It, class Op, class Transform>
T fold_two_streams(It first, std::size_t lo, std::size_t hi, Op& op, Transform& t) {
  using diff = std::iter_difference_t<It>;
  const auto at = [first](std::size_t i) -> decltype(auto) { return first[static_cast<diff>(i)]; };
  const std::size_t half = (hi - lo) / 2;
  if (half == 0) {
    return static_cast<T>(t(at(lo)));
  }
  const std::size_t mid = lo + half;
  T left = static_cast<T>(t(at(lo)));
  T right = static_cast<T>(t(at(mid)));
  for (std::size_t k = 1; k < half; ++k) {
    left = op(std::move(left), t(at(lo + k)));
    right = op(std::move(right), t(at(mid + k)));
  }
  for (std::size_t i = mid + half; i < hi; ++i) {  // the odd element, if any, ends the right half
    right = op(std::move(right), t(at(i)));
  }
  return op(std::move(left), std::move(right));
}

}  // namespace taskpipe::detail
