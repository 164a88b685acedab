#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "taskpipe/error.hpp"
#include "taskpipe/verdict/gzip_chain.hpp"
#include "taskpipe/verdict/text_chains.hpp"

namespace v = taskpipe::verdict;
namespace fs = std::filesystem;
using taskpipe::execution_strategy;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Inflates a gzip member with zlib (windowBits 15 + 16: gzip framing, CRC and length checked).
std::string gunzip(const std::string& gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(gz.size() * 20 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  const bool consumed_all = z.avail_in == 0;
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_TRUE(consumed_all);
  return out;
}

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("taskpipe-verdict-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
};

}  // namespace

TEST(gzip_chain, writes_one_gzip_stream_that_restores_the_input_under_every_strategy) {
  temp_dir dir;
  const auto in = dir.path / "in.txt";
  v::write_generated_text(in.string(), 300'001);
  const std::string original = slurp(in);
  ASSERT_EQ(original.size(), 300'001U);
  taskpipe::executor ex{taskpipe::executor_options{.workers = 3, .spin_before_sleep = std::chrono::microseconds(0)}};
  for (const auto s : {execution_strategy::token, execution_strategy::pinned, execution_strategy::farm}) {
    const auto out = dir.path / ("out-" + std::string(to_string(s)) + ".gz");
    auto make = v::gzip_chain({.input = in.string(), .output = out.string(), .chunk = 16384});
    const auto st = make(ex, {.max_in_flight = 6, .strategy = s}).run();
    EXPECT_EQ(st.items, 19U) << to_string(s);  // ceil(300001 / 16384)
    const std::string gz = slurp(out);
    EXPECT_LT(gz.size(), original.size() / 2) << "generated text should compress";
    EXPECT_EQ(gunzip(gz), original) << to_string(s);
  }
  // The outside anchor: gzip's own decoder, where the machine has it.
  if (std::system("command -v gunzip >/dev/null 2>&1") == 0) {
    const auto cmd = "gunzip -c '" + (dir.path / "out-token.gz").string() + "' | cmp -s - '" + in.string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
}

TEST(gzip_chain, an_empty_file_gives_an_empty_gzip_stream) {
  temp_dir dir;
  const auto in = dir.path / "empty";
  std::ofstream{in}.close();
  taskpipe::executor ex{taskpipe::executor_options{.workers = 2}};
  const auto out = dir.path / "empty.gz";
  const auto st = v::gzip_chain({.input = in.string(), .output = out.string()})(ex, {}).run();
  EXPECT_EQ(st.items, 1U);
  EXPECT_EQ(gunzip(slurp(out)), "");
}

TEST(gzip_chain, refuses_bad_options_and_names_a_missing_file) {
  EXPECT_THROW((void)v::gzip_chain({.input = "a", .output = "b", .chunk = 100}), taskpipe::invalid_argument);
  EXPECT_THROW((void)v::gzip_chain({.input = "a", .output = "b", .level = 10}), taskpipe::invalid_argument);
  taskpipe::executor ex{taskpipe::executor_options{.workers = 1}};
  try {
    (void)v::gzip_chain({.input = "/nonexistent/in", .output = "/tmp/x.gz"})(ex, {});
    ADD_FAILURE() << "no error for a missing input";
  } catch (const taskpipe::error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open '/nonexistent/in'"), std::string::npos) << e.what();
  }
}

TEST(text_chains, give_the_serial_answer_under_every_strategy) {
  taskpipe::executor ex{taskpipe::executor_options{.workers = 3, .spin_before_sleep = std::chrono::microseconds(0)}};
  const auto words = v::word_frequency_chain(3000);
  const auto state = v::stateful_chain(3000, 1 << 16);
  for (const auto s : {execution_strategy::token, execution_strategy::pinned, execution_strategy::farm}) {
    EXPECT_EQ(words(ex, {.max_in_flight = 8, .strategy = s}).run().items, 3000U);  // the sink throws on a miscount
    if (s != execution_strategy::farm) {
      EXPECT_EQ(state(ex, {.max_in_flight = 8, .strategy = s}).run().items, 3000U);
    }
  }
  EXPECT_THROW((void)v::stateful_chain(10, 100), taskpipe::invalid_argument);
}
