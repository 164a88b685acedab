#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/notation.hpp>
#include <taskpipe/pp/validate.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace pp = taskpipe::pp;

namespace {

std::string why(const pp::schedule& s) {
  try {
    pp::validate(s);
  } catch (const pp::schedule_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(validate, accepts_generated_and_imported_schedules) {
  EXPECT_EQ(why(pp::make_schedule(pp::kind::zb_v, {.ranks = 4, .microbatches = 8})), "");
  EXPECT_EQ(why(pp::from_csv("0F0,0F1,0B0,0B1\n1F0,1B0,1F1,1B1\n")), "");
}

TEST(validate, catches_a_missing_w) {
  auto s = pp::make_schedule(pp::kind::zb_h1, {.ranks = 3, .microbatches = 6});
  auto& order = s.orders[1];
  order.erase(std::find(order.begin(), order.end(), pp::action{1, pp::action_kind::backward_weight, 4}));
  const auto msg = why(s);
  EXPECT_TRUE(contains(msg, "stage 1 micro-batch 4 has 0 B, 1 I and 0 W")) << msg;
}

TEST(validate, catches_a_duplicate_forward_and_a_w_beside_a_full_backward) {
  auto s = pp::from_csv("0F0,0F0,0B0\n");
  EXPECT_TRUE(contains(why(s), "has 2 F")) << why(s);
  s = pp::from_csv("0F0,0I0,0W0,0B0\n");
  EXPECT_TRUE(contains(why(s), "expected one B, or one I and one W")) << why(s);
}

TEST(validate, catches_a_b_before_its_f_naming_rank_and_step) {
  const auto s = pp::from_csv("0F0,0B0,0F1,0B1\n1F0,1B1,1B0,1F1\n");
  const auto msg = why(s);
  EXPECT_TRUE(contains(msg, "rank 1 step 1 (1B1) runs before its dependency 1F1")) << msg;
  EXPECT_TRUE(contains(msg, "step 3")) << msg;
}

TEST(validate, catches_swapped_receives_that_deadlock) {
  // Rank 0 waits for the gradient of micro-batch 0 before sending forward micro-batch 1; rank 1 waits for that
  // forward before running the backward that sends the gradient.
  const auto s = pp::from_csv("0F0,0B0,0F1,0B1\n1F0,1F1,1B0,1B1\n");
  const auto msg = why(s);
  EXPECT_TRUE(contains(msg, "deadlock")) << msg;
  EXPECT_TRUE(contains(msg, "rank 0 step 1 (0B0) waits for")) << msg;
  EXPECT_TRUE(contains(msg, "rank 1 step 1 (1F1) waits for 0F1 from rank 0 step 2")) << msg;
}

TEST(validate, catches_a_deadlock_in_a_generated_schedule_with_swapped_actions) {
  auto s = pp::make_schedule(pp::kind::one_f_one_b, {.ranks = 4, .microbatches = 8});
  // Rank 2 now wants micro-batch 1's gradient before it has forwarded micro-batch 1 to rank 3.
  auto& order = s.orders[2];
  const auto f = std::find(order.begin(), order.end(), pp::action{2, pp::action_kind::forward, 1});
  const auto b = std::find(order.begin(), order.end(), pp::action{2, pp::action_kind::backward_full, 1});
  std::iter_swap(f, b);
  const auto msg = why(s);
  EXPECT_TRUE(contains(msg, "rank 2 step 1 (2B1)")) << msg;
}

TEST(validate, catches_shape_errors) {
  auto s = pp::make_schedule(pp::kind::gpipe, {.ranks = 2, .microbatches = 2});
  s.orders[0][0].microbatch = 5;
  EXPECT_TRUE(contains(why(s), "rank 0 step 0 (0F5): micro-batch out of range 0..1")) << why(s);
  s = pp::make_schedule(pp::kind::gpipe, {.ranks = 2, .microbatches = 2});
  s.stage_rank[1] = 0;
  EXPECT_TRUE(contains(why(s), "stage 1 is placed on rank 0")) << why(s);
  s.orders.pop_back();
  EXPECT_TRUE(contains(why(s), "1 action lists for 2 ranks")) << why(s);
}
