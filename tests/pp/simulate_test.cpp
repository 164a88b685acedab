#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/notation.hpp>
#include <taskpipe/pp/simulate.hpp>

#include <gtest/gtest.h>

namespace pp = taskpipe::pp;

TEST(simulate, one_micro_batch_is_the_sum_of_its_chain_with_communication) {
  pp::costs c;
  c.per_stage = {{1, 2, 0.5, 0}, {3, 1, 0.25, 0}, {2, 2, 1, 0}};
  c.comm = 0.125;
  const auto sim = pp::simulate(pp::make_schedule(pp::kind::gpipe, {.ranks = 3, .microbatches = 1}), c);
  // Forward 1 + 3 + 2, then the fused backwards (b + w) 3 + 1.25 + 2.5 back down, and 4 transfers.
  EXPECT_DOUBLE_EQ(sim.makespan(), (1 + 3 + 2) + (3 + 1.25 + 2.5) + 4 * 0.125);
  EXPECT_DOUBLE_EQ(sim.busy(1), 3 + 1.25);
  EXPECT_DOUBLE_EQ(sim.idle(1), sim.makespan() - 4.25);
}

TEST(simulate, split_backward_takes_w_off_the_critical_path) {
  const auto s = pp::from_csv("0F0,0I0,0W0\n1F0,1I0,1W0\n");
  const auto sim = pp::simulate(s, pp::costs::uniform({.f = 1, .b = 2, .w = 4, .comm = 0.5}));
  // F 1, comm, F 1, I 2, comm, I 2, W 4 on rank 0; rank 1 ends with its W at 1 + .5 + 1 + 2 + 4.
  EXPECT_DOUBLE_EQ(sim.makespan(), 1 + 0.5 + 1 + 2 + 0.5 + 2 + 4);
  EXPECT_DOUBLE_EQ(sim.busy(0), 7);
  EXPECT_DOUBLE_EQ(sim.busy(1), 7);
}

TEST(simulate, cost_is_the_longest_rank_time_and_bubble_is_measured_against_it) {
  const auto s = pp::from_csv("0F0,0I0,0W0\n1F0,1I0,1W0\n");
  const auto sim = pp::simulate(s, pp::costs::uniform({.f = 1, .b = 2, .w = 4, .comm = 0.5}));
  // Rank 0: F [0,1], I [5,7], W [7,11]: its own time is 11. Rank 1: F [1.5,2.5], I [2.5,4.5], W [4.5,8.5]: 7.
  EXPECT_DOUBLE_EQ(sim.span(0), 11);
  EXPECT_DOUBLE_EQ(sim.span(1), 7);
  EXPECT_DOUBLE_EQ(sim.cost(), 11);
  EXPECT_DOUBLE_EQ(sim.bubble(1), 11 - 7);
  EXPECT_DOUBLE_EQ(sim.bubble_rate(), (4 + 4) / (2 * 11.0));
  EXPECT_THROW((void)sim.span(2), taskpipe::invalid_argument);
  // ZB-H2 is a parallelogram: with F = B = W = 1 every rank is busy its whole own time 3m, rank r starting at r, so
  // the cost is 3m while the makespan is 3m + p - 1.
  const auto h2 =
      pp::simulate(pp::make_schedule(pp::kind::zb_h2, {.ranks = 4, .microbatches = 8}), pp::costs::uniform({}));
  EXPECT_DOUBLE_EQ(h2.makespan(), 3 * 8 + 3);
  EXPECT_DOUBLE_EQ(h2.cost(), 3 * 8);
  EXPECT_DOUBLE_EQ(h2.bubble_rate(), 0);
  EXPECT_DOUBLE_EQ(h2.idle(3), 3);
}

TEST(simulate, peak_bytes_follow_per_stage_activation_sizes) {
  pp::costs c;
  c.per_stage = {{1, 1, 1, 100}, {1, 1, 1, 10}, {1, 1, 1, 1}, {1, 1, 1, 1000}};
  const auto sim = pp::simulate(pp::make_schedule(pp::kind::one_f_one_b, {.ranks = 4, .microbatches = 8}), c);
  EXPECT_DOUBLE_EQ(sim.peak_activation_bytes(0), 4 * 100.0);
  EXPECT_DOUBLE_EQ(sim.peak_activation_bytes(1), 3 * 10.0);
  EXPECT_DOUBLE_EQ(sim.peak_activation_bytes(3), 1 * 1000.0);
  EXPECT_THROW((void)sim.peak_activations(4), taskpipe::invalid_argument);
}

TEST(simulate, activation_bytes_are_freed_at_i_except_the_part_w_needs) {
  const auto s = pp::from_csv("0F0,0I0,0F1,0I1,0W0,0W1\n");
  pp::costs c = pp::costs::uniform({.activation_bytes = 10, .w_bytes = 2});
  // F0 +10, I0 -8 (2 kept for W0), F1 +10 = 12, I1 -8 = 4, W0 -2, W1 -2.
  const auto split = pp::simulate(s, c);
  EXPECT_DOUBLE_EQ(split.peak_activation_bytes(0), 12);
  EXPECT_EQ(split.peak_activations(0), 1);
  EXPECT_EQ(split.peak_activations_until_w(0), 2);
  c.per_stage[0].w_bytes = 10;  // W needs the whole activation: held until W
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 20);
  c.per_stage[0].w_bytes = 11;  // the I keeps more for its W than it frees: F0 10, I0 11, F1 21, I1 22, W0 11, W1 0
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 22);
  c.per_stage[0].w_bytes = -1;
  EXPECT_THROW((void)pp::simulate(s, c), taskpipe::invalid_argument);
}

TEST(simulate, a_fused_b_holds_the_w_part_from_the_end_of_its_i_part) {
  const auto s = pp::from_csv("0F0,0F1,0B0,0B1\n");
  pp::costs c = pp::costs::uniform({.activation_bytes = 10, .w_bytes = 13});
  // F0 10, F1 20, B0's I part 23 then its end 10, B1's I part 13 then 0.
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 23);
  c.per_stage[0].w_bytes = 4;  // a W part below the activation: B frees at its I part and at its end, peak at F1
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 20);
}

TEST(simulate, a_pass_holds_its_working_memory_from_its_start_to_its_finish) {
  const auto s = pp::from_csv("0F0,0I0,0F1,0I1,0W0,0W1\n");
  pp::costs c = pp::costs::uniform({.activation_bytes = 10, .w_bytes = 2});
  // Held between passes: F0 10, I0 2, F1 12, I1 4, W0 2, W1 0 (peak 12 at F1).
  c.per_stage[0].b_work_bytes = 5;  // during I1: 12 + 5
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 17);
  c.per_stage[0].f_work_bytes = 7;  // during F1: 12 + 7; an I that ends as F1 starts frees its working memory first
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 19);
  c.per_stage[0].w_work_bytes = 20;  // during W0: 4 + 20
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 24);
  EXPECT_EQ(pp::simulate(s, c).peak_activations(0), 1);  // the counts and M_B leave working memory out
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_memory(0), 1.2);
  c.per_stage[0].b_work_bytes = -1;
  EXPECT_THROW((void)pp::simulate(s, c), taskpipe::invalid_argument);
}

TEST(simulate, a_fused_b_holds_the_i_working_memory_then_the_ws) {
  const auto s = pp::from_csv("0F0,0B0\n");
  pp::costs c = pp::costs::uniform({.activation_bytes = 10, .w_bytes = 4, .b_work_bytes = 3});
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 13);  // I part: 10 + 3; W part: 4
  c.per_stage[0].w_work_bytes = 8;                                    // W part: 4 + 8
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 13);
  c.per_stage[0].w_work_bytes = 12;
  EXPECT_DOUBLE_EQ(pp::simulate(s, c).peak_activation_bytes(0), 16);
}

TEST(simulate, zb_h1_peak_bytes_equal_1f1b_when_w_keeps_nothing_and_grow_by_its_deferred_w_part) {
  for (int p = 2; p <= 8; ++p) {
    const pp::schedule_options o{.ranks = p, .microbatches = 3 * p};
    const auto one =
        pp::simulate(pp::make_schedule(pp::kind::one_f_one_b, o), pp::costs::uniform({.activation_bytes = 100}));
    const auto h1 = pp::make_schedule(pp::kind::zb_h1, o);
    const auto lean = pp::simulate(h1, pp::costs::uniform({.activation_bytes = 100}));
    const auto whole = pp::simulate(h1, pp::costs::uniform({.activation_bytes = 100, .w_bytes = 100}));
    for (int r = 0; r < p; ++r) {
      EXPECT_DOUBLE_EQ(lean.peak_activation_bytes(r), one.peak_activation_bytes(r)) << "p=" << p << " rank " << r;
      EXPECT_DOUBLE_EQ(whole.peak_activation_bytes(r), 100.0 * whole.peak_activations_until_w(r));
    }
  }
}

// The paper's unit: M_B is one micro-batch of a rank's layers. 1F1B holds p - r of them on rank r; ZB-H1 adds the
// W's part of the r activations whose W it defers; a chunk of an interleaved rank counts 1/v.
TEST(simulate, peak_memory_is_in_micro_batches_of_a_ranks_activations) {
  for (int p = 2; p <= 6; ++p) {
    const pp::schedule_options o{.ranks = p, .microbatches = 3 * p, .chunks = 2};
    const auto c = pp::costs::uniform({.activation_bytes = 10, .w_bytes = 4});
    const auto one = pp::simulate(pp::make_schedule(pp::kind::one_f_one_b, o), c);
    const auto h1 = pp::simulate(pp::make_schedule(pp::kind::zb_h1, o), c);
    const auto inter = pp::simulate(pp::make_schedule(pp::kind::interleaved, o), pp::costs::uniform({}));
    for (int r = 0; r < p; ++r) {
      EXPECT_DOUBLE_EQ(one.peak_memory(r), p - r) << "p=" << p << " rank " << r;
      EXPECT_NEAR(h1.peak_memory(r), (p - r) + 0.4 * r, 1e-12) << "p=" << p << " rank " << r;
      EXPECT_DOUBLE_EQ(inter.peak_memory(r), inter.peak_activations(r) / 2.0) << "p=" << p << " rank " << r;
    }
  }
}

TEST(simulate, timeline_has_one_slice_per_action_on_its_rank) {
  const auto s = pp::make_schedule(pp::kind::zb_h1, {.ranks = 4, .microbatches = 8});
  const auto sim = pp::simulate(s, pp::costs::uniform({}));
  const auto t = sim.timeline();
  ASSERT_EQ(t.events.size(), s.action_count());
  ASSERT_EQ(t.tracks.size(), 4U);
  for (const auto& e : t.events) {
    EXPECT_GE(e.start, 0);
    EXPECT_LE(e.start + e.duration, sim.makespan() + 1e-12);
    const auto a = pp::parse_action(e.name);
    EXPECT_EQ(s.rank_of(a.stage), e.track);
    EXPECT_EQ(e.category, std::string(1, pp::kind_letter(a.kind)));
  }
  // No two slices of one rank overlap.
  for (std::size_t i = 0; i < sim.actions().size(); ++i) {
    for (std::size_t j = i + 1; j < sim.actions().size(); ++j) {
      const auto& a = sim.actions()[i];
      const auto& b = sim.actions()[j];
      if (a.rank == b.rank) {
        EXPECT_TRUE(a.finish <= b.start + 1e-12 || b.finish <= a.start + 1e-12);
      }
    }
  }
}

TEST(simulate, refuses_bad_costs_and_invalid_schedules) {
  const auto s = pp::make_schedule(pp::kind::gpipe, {.ranks = 2, .microbatches = 2});
  EXPECT_THROW((void)pp::simulate(s, pp::costs::uniform({.f = -1})), taskpipe::invalid_argument);
  pp::costs three;
  three.per_stage = {{}, {}, {}};
  EXPECT_NO_THROW((void)pp::simulate(s, three));
  pp::costs one_short;
  one_short.per_stage = {{}, {}};
  EXPECT_THROW((void)pp::simulate(pp::make_schedule(pp::kind::gpipe, {.ranks = 3, .microbatches = 2}), one_short),
               taskpipe::invalid_argument);
  auto broken = s;
  broken.orders[1].pop_back();
  EXPECT_THROW((void)pp::simulate(broken, pp::costs::uniform({})), taskpipe::error);
}
