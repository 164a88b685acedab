// taskpipe/algorithm/parallel_for.hpp — run a body for every index, iterator or element of a range, in parallel.
//
// - parallel_for(ex, first, last, f): integers, calls f(i) for i in [first, last); any range of any integer type up
//   to 64 bits, [INT_MIN, INT_MAX) included.
// - parallel_for(ex, first, last, f): random-access iterators, calls f(it) for every iterator in [first, last).
// - parallel_for_each(ex, first, last, f): random-access iterators, calls f(*it).
// Each takes an optional partitioner (partitioner.hpp) and an optional stop_token. Bodies run concurrently and in no
// particular order; calls for one chunk run in order on one thread.
//
// Thread safety: callable from any thread, also from inside tasks of `ex` (nesting helps instead of blocking).
// Exceptions: the first exception thrown by `f` is rethrown after every chunk has finished or been skipped; chunks
//   not yet started when it was thrown are skipped.
// Cancellation: when `stop` (e.g. a task_group's token) is cancelled, chunks not yet started are skipped and the call
//   returns normally; running chunks finish.
//
// Example:
//   taskpipe::parallel_for(ex, std::size_t{0}, n, [&](std::size_t i) { y[i] = a * x[i] + y[i]; });
//   taskpipe::parallel_for_each(ex, v.begin(), v.end(), [](double& d) { d = std::sqrt(d); });
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <type_traits>

#include "taskpipe/algorithm/detail/chunk_loops.hpp"
#include "taskpipe/algorithm/detail/chunks.hpp"
#include "taskpipe/algorithm/partitioner.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {

namespace detail {

/// Index arithmetic for parallel_for over an integer type, done in the unsigned type of the same width, where
/// wrapping is defined: `last - first` of a signed type overflows for ranges of more than half its values (`[-1,
/// INT_MAX)` holds 2^31 indices), and `first + k` overflows on the way to the last of them.
template <std::integral I>
struct index_span {
  using unsigned_index = std::make_unsigned_t<I>;
  static_assert(sizeof(unsigned_index) <= sizeof(std::size_t), "parallel_for: index type wider than std::size_t");

  /// The number of indices in [first, last); requires first < last.
  static std::size_t size(I first, I last) noexcept {
    return static_cast<std::size_t>(
        static_cast<unsigned_index>(static_cast<unsigned_index>(last) - static_cast<unsigned_index>(first)));
  }
  /// The k-th index of a range starting at `first`; requires k < size(first, last).
  static I at(I first, std::size_t k) noexcept {
    return static_cast<I>(
        static_cast<unsigned_index>(static_cast<unsigned_index>(first) + static_cast<unsigned_index>(k)));
  }
};

}  // namespace detail

template <std::integral I, class F>
requires std::invocable<F&, I>
void parallel_for(executor& ex, I first, I last, F f, partitioner p = {}, stop_token stop = {}) {
  if (!(first < last)) {
    return;
  }
  const std::size_t n = detail::index_span<I>::size(first, last);
  detail::on_worker(ex, [&](detail::caller_hand_off& hand_off) {
    const auto plan = detail::chunk_plan::make(n, ex.num_workers(), p);
    auto chunk = [first, &f](std::size_t /*chunk*/, std::size_t lo, std::size_t hi) {
      auto at = [first, &f](std::size_t i) { f(detail::index_span<I>::at(first, i)); };
      detail::for_each_index(lo, hi, at);
    };
    detail::run_chunks(ex, plan, stop, chunk, hand_off);
  });
}

template <std::random_access_iterator It, class F>
requires std::invocable<F&, It>
void parallel_for(executor& ex, It first, It last, F f, partitioner p = {}, stop_token stop = {}) {
  if (!(first < last)) {
    return;
  }
  const auto n = static_cast<std::size_t>(last - first);
  detail::on_worker(ex, [&](detail::caller_hand_off& hand_off) {
    const auto plan = detail::chunk_plan::make(n, ex.num_workers(), p);
    auto chunk = [first, &f](std::size_t /*chunk*/, std::size_t lo, std::size_t hi) {
      auto at = [first, &f](std::size_t i) { f(first + static_cast<std::iter_difference_t<It>>(i)); };
      detail::for_each_index(lo, hi, at);
    };
    detail::run_chunks(ex, plan, stop, chunk, hand_off);
  });
}

template <std::random_access_iterator It, class F>
requires std::invocable<F&, std::iter_reference_t<It>>
void parallel_for_each(executor& ex, It first, It last, F f, partitioner p = {}, stop_token stop = {}) {
  parallel_for(
      ex, first, last, [&f](It it) { f(*it); }, p, stop);
}

}  // namespace taskpipe
