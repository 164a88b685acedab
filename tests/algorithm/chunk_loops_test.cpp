// The loops inside one chunk (algorithm/detail/chunk_loops.hpp), on every chunk length from 0 to 40 and at offsets:
// for_each_index visits each index once and in order; fold_two_streams equals the left-to-right fold with an
// operation that is associative but not commutative (string concatenation), so any reordering would show.
#include "taskpipe/algorithm/detail/chunk_loops.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

namespace {

TEST(chunk_loops, for_each_index_visits_every_index_once_in_order) {
  for (std::size_t lo = 0; lo < 5; ++lo) {
    for (std::size_t len = 0; len <= 40; ++len) {
      std::vector<std::size_t> seen;
      auto record = [&seen](std::size_t i) { seen.push_back(i); };
      taskpipe::detail::for_each_index(lo, lo + len, record);
      ASSERT_EQ(seen.size(), len) << "lo=" << lo;
      for (std::size_t k = 0; k < len; ++k) {
        ASSERT_EQ(seen[k], lo + k) << "lo=" << lo << " len=" << len;
      }
    }
  }
}

TEST(chunk_loops, fold_two_streams_keeps_left_to_right_order) {
  std::vector<std::string> letters;
  for (char c = 'a'; c <= 'z'; ++c) {
    letters.emplace_back(1, c);
  }
  for (char c = 'A'; c <= 'Z'; ++c) {
    letters.emplace_back(1, c);
  }
  const auto concat = [](std::string a, const std::string& b) { return a + b; };
  const auto identity = [](const std::string& s) { return s; };
  for (std::size_t lo = 0; lo < 5; ++lo) {
    for (std::size_t len = 1; lo + len <= letters.size(); ++len) {
      std::string expect;
      for (std::size_t i = lo; i < lo + len; ++i) {
        expect += letters[i];
      }
      auto op = concat;
      auto t = identity;
      EXPECT_EQ(taskpipe::detail::fold_two_streams<std::string>(letters.begin(), lo, lo + len, op, t), expect)
          << "lo=" << lo << " len=" << len;
    }
  }
}

TEST(chunk_loops, fold_two_streams_applies_the_transform_to_every_element_once) {
  std::vector<int> v(37);
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<int>(i);
  }
  for (std::size_t len = 1; len <= v.size(); ++len) {
    int calls = 0;
    auto t = [&calls](int x) {
      ++calls;
      return static_cast<long>(x) * 2;
    };
    auto plus = [](long a, long b) { return a + b; };
    const long sum = taskpipe::detail::fold_two_streams<long>(v.begin(), 0, len, plus, t);
    EXPECT_EQ(sum, static_cast<long>(len * (len - 1))) << "len=" << len;
    EXPECT_EQ(calls, static_cast<int>(len)) << "len=" << len;
  }
}

}  // namespace
