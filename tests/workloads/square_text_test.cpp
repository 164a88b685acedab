// The square workload (bench/workloads/square_text.hpp): chunks are cut on whole numbers, never exceed the chunk size
// and put back together give the input; squaring chunk by chunk gives the oracle's output; the squares are right
// (checked against strtoull and 64-bit multiplication of each line); bad input throws.
#include "square_text.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

namespace wl = taskpipe::workloads;

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

file_ptr file_with(const std::string& text) {
  file_ptr f{std::tmpfile()};
  if (!f) {
    throw std::runtime_error("tmpfile failed");
  }
  std::fwrite(text.data(), 1, text.size(), f.get());
  std::rewind(f.get());
  return f;
}

TEST(square_text, chunks_end_on_whole_numbers_and_rebuild_the_input) {
  const std::string input = wl::square_input(5000);
  for (const std::size_t chunk : {8U, 13U, 128U, 4000U, 1U << 20U}) {
    const auto f = file_with(input);
    wl::chunk_reader reader{f.get(), chunk};
    std::string rebuilt;
    std::string squared;
    std::size_t chunks = 0;
    while (auto c = reader.next()) {
      ASSERT_FALSE(c->empty());
      ASSERT_LE(c->size(), chunk);
      ASSERT_EQ(c->back(), '\n') << "chunk " << chunks << " of " << chunk << " bytes cuts a number";
      rebuilt += *c;
      squared += wl::square_text(*c);
      ++chunks;
    }
    EXPECT_EQ(rebuilt, input) << chunk;
    EXPECT_EQ(squared, wl::square_text(input)) << chunk;
    EXPECT_GE(chunks, input.size() / chunk) << chunk;
  }
}

TEST(square_text, squares_every_line) {
  const std::string input = wl::square_input(2000) + "0\n4294967295\n";
  const std::string out = wl::square_text(input);
  std::size_t a = 0;
  std::size_t b = 0;
  std::size_t lines = 0;
  while (a < input.size()) {
    const auto ea = input.find('\n', a);
    const auto eb = out.find('\n', b);
    ASSERT_NE(eb, std::string::npos) << "output ends early at line " << lines;
    const unsigned long long x = std::strtoull(input.substr(a, ea - a).c_str(), nullptr, 10);
    EXPECT_EQ(out.substr(b, eb - b), std::to_string(x * x)) << "line " << lines;
    a = ea + 1;
    b = eb + 1;
    ++lines;
  }
  EXPECT_EQ(b, out.size());
  EXPECT_EQ(lines, 2002U);
}

TEST(square_text, bad_input_throws) {
  EXPECT_THROW((void)wl::square_text("12\nx\n"), std::runtime_error);
  EXPECT_THROW((void)wl::square_text("4294967296\n"), std::runtime_error);  // its square would not fit
  EXPECT_THROW((void)wl::square_text("12"), std::runtime_error);            // no newline
  const auto f = file_with("1234567890\n");
  wl::chunk_reader reader{f.get(), 4};
  EXPECT_THROW((void)reader.next(), std::runtime_error);
}

}  // namespace
