#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/notation.hpp>
#include <taskpipe/pp/validate.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "pp/refusals.hpp"

namespace pp = taskpipe::pp;
using taskpipe::test::csv_refusal;

TEST(notation, actions_print_and_parse_in_torch_notation) {
  EXPECT_EQ(pp::to_string({2, pp::action_kind::forward, 0}), "2F0");
  EXPECT_EQ(pp::to_string({1, pp::action_kind::backward_input, 13}), "1I13");
  EXPECT_EQ(pp::to_string({0, pp::action_kind::backward_weight, 1}), "0W1");
  EXPECT_EQ(pp::to_string({3, pp::action_kind::backward_full, 2}), "3B2");
  EXPECT_EQ(pp::parse_action(" 12W34 "), (pp::action{12, pp::action_kind::backward_weight, 34}));
  for (const char* bad : {"", "F0", "2F", "2X0", "2F0x", "-1F0", "2 F0"}) {
    EXPECT_THROW((void)pp::parse_action(bad), taskpipe::invalid_argument) << bad;
  }
}

TEST(notation, csv_round_trips_every_kind) {
  for (const auto k : pp::all_kinds()) {
    const auto s = pp::make_schedule(k, {.ranks = 4, .microbatches = 8, .chunks = 2});
    const auto back = pp::from_csv(pp::to_csv(s));
    EXPECT_EQ(back.orders, s.orders) << pp::kind_name(k);
    EXPECT_EQ(back.stage_rank, s.stage_rank) << pp::kind_name(k);
    EXPECT_EQ(back.ranks, s.ranks);
    EXPECT_EQ(back.stages, s.stages);
    EXPECT_EQ(back.microbatches, s.microbatches);
    const auto text = pp::from_text(pp::to_text(s));
    EXPECT_EQ(text.orders, s.orders) << pp::kind_name(k);
  }
}

TEST(notation, csv_file_round_trip) {
  const auto s = pp::make_schedule(pp::kind::zb_h1, {.ranks = 3, .microbatches = 6});
  const std::string path = ::testing::TempDir() + "pp_notation_test.csv";
  pp::save_csv(s, path);
  EXPECT_EQ(pp::load_csv(path).orders, s.orders);
  std::remove(path.c_str());
  EXPECT_THROW((void)pp::load_csv(path), taskpipe::error);
}

TEST(notation, torch_csv_with_communication_and_empty_cells_imports) {
  // As torch writes a lowered schedule: send/receive actions and idle cells between the compute ones.
  const std::string csv =
      "0F0,0SEND_F0,,0F1,0SEND_F1,0RECV_B0,0B0,0RECV_B1,0B1\n"
      "1RECV_F0,1F0,1B0,1SEND_B0,1RECV_F1,1F1,1B1,1SEND_B1\n";
  const auto s = pp::from_csv(csv);
  EXPECT_EQ(s.ranks, 2);
  EXPECT_EQ(s.stages, 2);
  EXPECT_EQ(s.microbatches, 2);
  ASSERT_EQ(s.orders[0].size(), 4U);
  EXPECT_EQ(pp::to_string(s.orders[0][2]), "0B0");
  EXPECT_NO_THROW(pp::validate(s));
}

TEST(notation, a_b_with_its_w_reads_as_the_input_backward) {
  const auto s = pp::from_csv("0F0,0B0,0W0\n");
  EXPECT_EQ(s.orders[0][1].kind, pp::action_kind::backward_input);
  EXPECT_NO_THROW(pp::validate(s));
  EXPECT_EQ(pp::from_csv("0F0,0B0\n").orders[0][1].kind, pp::action_kind::backward_full);
}

TEST(notation, bad_csv_names_row_cell_and_rule) {
  EXPECT_NE(csv_refusal("0F0,0X1\n").find("row 1, cell 2"), std::string::npos);
  EXPECT_NE(csv_refusal("0F0\n0F1\n").find("stage 0 appears on rank 0 and on rank 1"), std::string::npos);
  EXPECT_NE(csv_refusal("0F0,0B0\n2F0,2B0\n").find("stage 1 has no action"), std::string::npos);
  EXPECT_NE(csv_refusal("").find("empty schedule"), std::string::npos);
}
