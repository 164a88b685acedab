// parallel_for over integer ranges at the extremes of every index type: ranges of more than half a signed type's
// values ([-1, INT_MAX) holds 2^31 indices), ranges that end at the type's maximum, whole small types. Small types
// run every index; for 32- and 64-bit types the test checks where the two chunks of a fixed split start (their bodies
// throw at their first index, so 2^64 indices cost two calls) and the index arithmetic at the last index.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include "taskpipe/algorithm/parallel_for.hpp"

namespace {

template <class I>
using lim = std::numeric_limits<I>;

struct stop_here : std::exception {};

// The oracle does its arithmetic in 128 bits, where no 64-bit range can overflow.
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

template <class I>
auto show(I i) {
  if constexpr (std::is_signed_v<I>) {
    return static_cast<long long>(i);
  } else {
    return static_cast<unsigned long long>(i);
  }
}

// Chunk 1 of a fixed two-way split starts at first + ceil(n / 2).
template <class I>
void expect_two_chunks_start_right(taskpipe::executor& ex, I first, I last) {
  const auto n = static_cast<u128>(static_cast<i128>(last) - static_cast<i128>(first));
  const auto second = static_cast<I>(static_cast<i128>(first) + static_cast<i128>(n - n / 2));
  std::mutex m;
  std::vector<I> starts;
  auto body = [&](I i) {
    {
      const std::lock_guard lock{m};
      starts.push_back(i);
    }
    if (i == first) {  // chunk 0 waits (bounded) for chunk 1 to start, so both starts are seen
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (std::chrono::steady_clock::now() < deadline) {
        {
          const std::lock_guard lock{m};
          if (starts.size() >= 2) {
            break;
          }
        }
        std::this_thread::yield();
      }
    }
    throw stop_here{};
  };
  EXPECT_THROW(taskpipe::parallel_for(ex, first, last, body, taskpipe::static_partitioner()), stop_here);
  std::sort(starts.begin(), starts.end());
  const std::vector<I> expected{first, second};
  EXPECT_EQ(starts, expected) << "range [" << show(first) << ", " << show(last) << ")";
  using span = taskpipe::detail::index_span<I>;
  EXPECT_EQ(static_cast<u128>(span::size(first, last)), n);
  EXPECT_EQ(span::at(first, span::size(first, last) - 1), static_cast<I>(last - 1));
}

template <class I>
void expect_every_index_once(taskpipe::executor& ex, I first, I last) {
  const auto n = static_cast<std::size_t>(static_cast<long long>(last) - static_cast<long long>(first));
  std::vector<std::atomic<int>> seen(n);
  taskpipe::parallel_for(ex, first, last, [&](I i) {
    seen[static_cast<std::size_t>(static_cast<long long>(i) - static_cast<long long>(first))].fetch_add(1);
  });
  for (std::size_t k = 0; k < n; ++k) {
    ASSERT_EQ(seen[k].load(), 1) << "index " << static_cast<long long>(first) + static_cast<long long>(k);
  }
}

TEST(parallel_for_extremes, ranges_of_two_to_the_31_and_more_int_indices) {
  taskpipe::executor ex{{.workers = 2}};
  expect_two_chunks_start_right<int>(ex, -1, lim<int>::max());
  expect_two_chunks_start_right<int>(ex, lim<int>::min(), 0);
  expect_two_chunks_start_right<int>(ex, lim<int>::min(), lim<int>::max());
  expect_two_chunks_start_right<int>(ex, 0, lim<int>::max());
}

TEST(parallel_for_extremes, the_other_32_and_64_bit_types) {
  taskpipe::executor ex{{.workers = 2}};
  expect_two_chunks_start_right<unsigned>(ex, 0U, lim<unsigned>::max());
  expect_two_chunks_start_right<std::int64_t>(ex, lim<std::int64_t>::min(), lim<std::int64_t>::max());
  expect_two_chunks_start_right<std::int64_t>(ex, -1, lim<std::int64_t>::max());
  expect_two_chunks_start_right<std::uint64_t>(ex, 0U, lim<std::uint64_t>::max());
  expect_two_chunks_start_right<std::uint64_t>(ex, lim<std::uint64_t>::max() - 2, lim<std::uint64_t>::max());
}

TEST(parallel_for_extremes, whole_8_and_16_bit_types_run_every_index_once) {
  taskpipe::executor ex{{.workers = 2}};
  expect_every_index_once<signed char>(ex, lim<signed char>::min(), lim<signed char>::max());
  expect_every_index_once<unsigned char>(ex, 0, lim<unsigned char>::max());
  expect_every_index_once<char>(ex, lim<char>::min(), lim<char>::max());
  expect_every_index_once<short>(ex, lim<short>::min(), lim<short>::max());
  expect_every_index_once<std::uint16_t>(ex, 0, lim<std::uint16_t>::max());
}

}  // namespace
