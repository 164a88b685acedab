#include <taskpipe/pp/limits.hpp>
#include <taskpipe/pp/notation.hpp>

#include <gtest/gtest.h>

#include <string>

#include "pp/refusals.hpp"

namespace pp = taskpipe::pp;
using taskpipe::test::csv_refusal;
using taskpipe::test::limits_refusal;

TEST(limits, sizes_past_the_limits_are_refused_with_the_range) {
  using k = pp::kind;
  EXPECT_EQ(limits_refusal(k::interleaved, {.ranks = 32, .microbatches = 256, .chunks = 4}), "");
  EXPECT_EQ(limits_refusal(k::zb_auto, {.ranks = 256, .microbatches = 512}), "");
  EXPECT_NE(limits_refusal(k::interleaved, {.ranks = 4, .chunks = 1073741824})
                .find("chunks = 1073741824: must be in [2, 32]"),
            std::string::npos);
  EXPECT_NE(limits_refusal(k::gpipe, {.ranks = 100000}).find("ranks = 100000: must be in [1, 256]"), std::string::npos);
  EXPECT_NE(limits_refusal(k::gpipe, {.ranks = 0}).find("ranks = 0"), std::string::npos);
  EXPECT_NE(limits_refusal(k::gpipe, {.microbatches = 100000000}).find("[1, 4096]"), std::string::npos);
  EXPECT_NE(limits_refusal(k::gpipe, {.layers = -1}).find("layers"), std::string::npos);
  EXPECT_NE(limits_refusal(k::zb_auto, {.memory_limit = -1}).find("memory_limit"), std::string::npos);
  EXPECT_NE(limits_refusal(k::interleaved, {.ranks = 256, .microbatches = 256, .chunks = 8}).find("2048 stages"),
            std::string::npos);
  EXPECT_NE(limits_refusal(k::zb_v, {.ranks = 256, .microbatches = 4096}).find("512 stages x 4096"), std::string::npos);
  // chunks only counts for interleaved: gpipe ignores it, as the generators do.
  EXPECT_EQ(limits_refusal(k::gpipe, {.chunks = 1073741824}), "");
  EXPECT_EQ(pp::stage_count(k::zb_v, {.ranks = 3}), 6);
  EXPECT_EQ(pp::stage_count(k::interleaved, {.ranks = 3, .chunks = 5}), 15);
}

TEST(limits, the_importer_refuses_numbers_past_them_before_allocating) {
  EXPECT_NE(csv_refusal("0F2147483647\n").find("micro-batch 2147483647 in '0F2147483647'"), std::string::npos);
  EXPECT_NE(csv_refusal("2147483647F0\n").find("stage 2147483647 in '2147483647F0'"), std::string::npos);
  EXPECT_NE(csv_refusal("1024F0\n").find("stages are numbered 0..1023"), std::string::npos);
  EXPECT_NE(csv_refusal("0F4096\n").find("micro-batches are numbered 0..4095"), std::string::npos);
  EXPECT_NE(csv_refusal("1023F4095\n").find("at most 131072"), std::string::npos);
  std::string rows;
  for (int i = 0; i <= pp::max_ranks; ++i) {
    rows += "0F0\n";
  }
  EXPECT_NE(csv_refusal(rows).find("more than 256 rows"), std::string::npos);
  std::string many;
  for (long long i = 0; i <= pp::max_actions; ++i) {
    many += "0F0,";
  }
  EXPECT_NE(csv_refusal(many).find("more than 393216 actions"), std::string::npos);
  EXPECT_THROW((void)pp::from_text("rank 0: 0F2147483647"), taskpipe::invalid_argument);
}
