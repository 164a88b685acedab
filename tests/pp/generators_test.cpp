#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>
#include <taskpipe/pp/validate.hpp>

#include <gtest/gtest.h>

#include <string>

#include "pp/refusals.hpp"

namespace pp = taskpipe::pp;
using taskpipe::test::schedule_refusal;

TEST(generators, every_kind_validates_on_a_grid) {
  for (const auto k : pp::all_kinds()) {
    for (int p = 1; p <= 8; ++p) {
      for (int m = p; m <= 3 * p; m += p) {
        if (k == pp::kind::dualpipe_v && m < 2 * p) {
          continue;  // refused: it needs a micro-batch per stage of its V
        }
        const auto s = pp::make_schedule(k, {.ranks = p, .microbatches = m, .chunks = 2});
        EXPECT_NO_THROW(pp::validate(s)) << pp::kind_name(k) << " p=" << p << " m=" << m;
        EXPECT_EQ(s.ranks, p);
        EXPECT_EQ(s.name, pp::kind_name(k));
      }
    }
  }
}

TEST(generators, placements_follow_the_kind) {
  const auto i = pp::make_schedule(pp::kind::interleaved, {.ranks = 4, .microbatches = 8, .chunks = 3});
  EXPECT_EQ(i.stages, 12);
  EXPECT_EQ(i.rank_of(5), 1);
  const auto v = pp::make_schedule(pp::kind::zb_v, {.ranks = 4, .microbatches = 8});
  EXPECT_EQ(v.stages, 8);
  EXPECT_EQ(v.rank_of(0), 0);
  EXPECT_EQ(v.rank_of(7), 0);  // the V: rank 0 holds the first and the last stage
  EXPECT_EQ(v.rank_of(4), 3);
  EXPECT_EQ(pp::make_schedule(pp::kind::zb_h1, {.ranks = 4, .microbatches = 8}).stages, 4);
}

TEST(generators, one_f_one_b_order_is_the_textbook_one) {
  const auto s = pp::make_schedule(pp::kind::one_f_one_b, {.ranks = 3, .microbatches = 4});
  std::string rank0;
  for (const auto& a : s.orders[0]) {
    rank0 += pp::to_string(a) + " ";
  }
  EXPECT_EQ(rank0, "0F0 0F1 0F2 0B0 0F3 0B1 0B2 0B3 ");
  std::string rank2;
  for (const auto& a : s.orders[2]) {
    rank2 += pp::to_string(a) + " ";
  }
  EXPECT_EQ(rank2, "2F0 2B0 2F1 2B1 2F2 2B2 2F3 2B3 ");
}

TEST(generators, zero_bubble_kinds_split_backward) {
  for (const auto k : {pp::kind::zb_h1, pp::kind::zb_h2, pp::kind::zb_v, pp::kind::zb_auto}) {
    const auto s = pp::make_schedule(k, {.ranks = 4, .microbatches = 8});
    int w = 0;
    for (const auto& order : s.orders) {
      for (const auto& a : order) {
        EXPECT_NE(a.kind, pp::action_kind::backward_full);
        w += a.kind == pp::action_kind::backward_weight ? 1 : 0;
      }
    }
    EXPECT_EQ(w, s.stages * 8) << pp::kind_name(k);
  }
}

TEST(generators, zb_auto_honours_the_memory_limit_and_is_at_least_as_fast_as_zb_h1_under_its_limit) {
  const pp::costs c = pp::costs::uniform({.f = 1, .b = 2, .w = 1});
  for (int limit = 1; limit <= 7; ++limit) {
    pp::schedule_options o{.ranks = 4, .microbatches = 12};
    o.planning_costs = c;
    o.memory_limit = limit;
    const auto sim = pp::simulate(pp::make_schedule(pp::kind::zb_auto, o), c);
    for (int r = 0; r < 4; ++r) {
      EXPECT_LE(sim.peak_activations_until_w(r), limit) << "limit " << limit;
    }
  }
  pp::schedule_options o{.ranks = 4, .microbatches = 12};
  o.planning_costs = c;
  const auto h1 = pp::simulate(pp::make_schedule(pp::kind::zb_h1, o), c);
  const auto automatic = pp::simulate(pp::make_schedule(pp::kind::zb_auto, o), c);
  EXPECT_LE(automatic.makespan(), h1.makespan());
}

TEST(generators, zb_auto_uses_per_stage_costs) {
  pp::costs c;
  c.per_stage = {{1, 1, 1, 0}, {3, 3, 1, 0}, {1, 1, 1, 0}, {1, 1, 1, 0}};
  pp::schedule_options o{.ranks = 4, .microbatches = 8};
  o.planning_costs = c;
  const auto sim = pp::simulate(pp::make_schedule(pp::kind::zb_auto, o), c);
  // Stage 1 is the bottleneck: it is busy 8 x 7 = 56, and nothing can beat that plus the fill of the other stages.
  EXPECT_GE(sim.makespan(), 56.0);
  EXPECT_LE(sim.makespan(),
            pp::simulate(pp::make_schedule(pp::kind::one_f_one_b, {.ranks = 4, .microbatches = 8}), c).makespan());
}

TEST(generators, bad_parameters_are_refused_naming_the_rule) {
  EXPECT_NE(schedule_refusal(pp::kind::one_f_one_b, {.ranks = 4, .microbatches = 3}).find("microbatches >= ranks"),
            std::string::npos);
  EXPECT_NE(
      schedule_refusal(pp::kind::interleaved, {.ranks = 4, .microbatches = 6, .chunks = 2}).find("multiple of ranks"),
      std::string::npos);
  EXPECT_NE(schedule_refusal(pp::kind::interleaved, {.ranks = 4, .microbatches = 8, .chunks = 1}).find("chunks = 1"),
            std::string::npos);
  EXPECT_NE(schedule_refusal(pp::kind::interleaved, {.ranks = 4, .microbatches = 8, .chunks = 2, .layers = 12})
                .find("layers = 12"),
            std::string::npos);
  EXPECT_NE(schedule_refusal(pp::kind::gpipe, {.ranks = 0, .microbatches = 8}).find("ranks = 0"), std::string::npos);
  EXPECT_NE(schedule_refusal(pp::kind::gpipe, {.ranks = 2, .microbatches = 0}).find("microbatches = 0"),
            std::string::npos);
  EXPECT_EQ(schedule_refusal(pp::kind::interleaved, {.ranks = 4, .microbatches = 8, .chunks = 2, .layers = 16}), "");
  EXPECT_EQ(schedule_refusal(pp::kind::gpipe, {.ranks = 4, .microbatches = 2}), "");
}

TEST(generators, kind_names_round_trip) {
  for (const auto k : pp::all_kinds()) {
    EXPECT_EQ(pp::parse_kind(pp::kind_name(k)), k);
  }
  EXPECT_EQ(pp::parse_kind("zb_h1"), pp::kind::zb_h1);
  try {
    (void)pp::parse_kind("pipedream");
    FAIL();
  } catch (const taskpipe::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'pipedream'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("zb-auto"), std::string::npos);
  }
}
