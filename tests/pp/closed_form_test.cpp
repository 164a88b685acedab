// The simulator against the closed forms of the literature, on p = 2..8, m = p..4p, equal and unequal F/B/W.
#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace pp = taskpipe::pp;

namespace {

struct fbw {
  double f, b, w;
};

constexpr fbw cost_sets[] = {{1, 1, 1}, {2, 3, 1}, {1.5, 2.5, 1}, {3, 2, 1}};

pp::simulation run(pp::kind k, int p, int m, const fbw& c, int chunks = 2) {
  pp::schedule_options o{.ranks = p, .microbatches = m, .chunks = chunks};
  o.planning_costs = pp::costs::uniform({.f = c.f, .b = c.b, .w = c.w});
  return pp::simulate(pp::make_schedule(k, o), *o.planning_costs);
}

std::string where(pp::kind k, int p, int m, const fbw& c, int r) {
  return std::string(pp::kind_name(k)) + " p=" + std::to_string(p) + " m=" + std::to_string(m) +
         " F/B/W=" + std::to_string(c.f) + "/" + std::to_string(c.b) + "/" + std::to_string(c.w) + " rank " +
         std::to_string(r);
}

void expect_idle(pp::kind k, double (*idle)(int p, const fbw&), bool (*applies)(int p, int m, const fbw&)) {
  int checked = 0;
  for (const auto& c : cost_sets) {
    for (int p = 2; p <= 8; ++p) {
      for (int m = p; m <= 4 * p; ++m) {
        if (!applies(p, m, c)) {
          continue;
        }
        const auto sim = run(k, p, m, c);
        for (int r = 0; r < p; ++r) {
          ASSERT_NEAR(sim.idle(r), idle(p, c), 1e-9) << where(k, p, m, c, r);
          // Rank 0 runs from 0 to the makespan, so the paper's cost is the makespan and its bubble the idle time.
          ASSERT_NEAR(sim.bubble(r), idle(p, c), 1e-9) << where(k, p, m, c, r);
          ASSERT_NEAR(sim.busy(r), m * (c.f + c.b + c.w), 1e-9) << where(k, p, m, c, r);
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100);
}

double full(int p, const fbw& c) { return (p - 1) * (c.f + c.b + c.w); }
bool always(int, int, const fbw&) { return true; }

}  // namespace

TEST(closed_form, gpipe_idles_p_minus_1_times_f_plus_b_plus_w) { expect_idle(pp::kind::gpipe, full, always); }

TEST(closed_form, one_f_one_b_idles_p_minus_1_times_f_plus_b_plus_w) {
  expect_idle(pp::kind::one_f_one_b, full, always);
}

TEST(closed_form, zb_h1_idles_p_minus_1_times_f_plus_b_minus_w) {
  expect_idle(
      pp::kind::zb_h1, [](int p, const fbw& c) { return (p - 1) * (c.f + c.b - c.w); }, always);
}

// ZB-H2 against the paper's (p-1)(F+B-2W), measured as the paper measures it: bubble(r) = cost - busy(r), cost the
// longest rank's own time, because ZB-H2's point is a parallelogram whose optimizer steps are not synchronised (the
// paper's post-update validation). Against the makespan a parallelogram cannot beat (p-1)F of idle per rank: rank
// p-1 cannot start before (p-1)F. The closed form is reached exactly when
//   m >= 2p - 1: rank 0's warm-up needs 2p - 1 forwards in flight to cover the first backward's round trip, which is
//                also the memory the paper grants ZB-H2; and it clamps at 0 when 2W > F + B (W then fills every gap).
TEST(closed_form, zb_h2_bubble_is_p_minus_1_times_f_plus_b_minus_2w_from_2p_minus_1_microbatches) {
  int checked = 0;
  for (const auto& c : {fbw{1, 1, 1}, fbw{2, 3, 1}, fbw{1.5, 2.5, 1}, fbw{3, 2, 1}, fbw{1, 1, 2}}) {
    for (int p = 2; p <= 8; ++p) {
      for (int m = 2 * p - 1; m <= 4 * p; ++m) {
        const auto sim = run(pp::kind::zb_h2, p, m, c);
        const double closed = std::max(0.0, (p - 1) * (c.f + c.b - 2 * c.w));
        for (int r = 0; r < p; ++r) {
          ASSERT_NEAR(sim.bubble(r), closed, 1e-9) << where(pp::kind::zb_h2, p, m, c, r);
          ASSERT_NEAR(sim.busy(r), m * (c.f + c.b + c.w), 1e-9) << where(pp::kind::zb_h2, p, m, c, r);
          // Against the synchronised clock the late start of the last rank shows.
          ASSERT_GE(sim.idle(r), (p - 1) * c.f - 1e-9) << where(pp::kind::zb_h2, p, m, c, r);
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 5 * 84);  // 2p + 2 values of m for each p
}

// With p <= m < 2p - 1 rank 0 runs out of micro-batches before the first backward returns: each one short of 2p - 1
// takes one W of filler out of the bubble, down to ZB-H1's (p-1)(F+B-W) at m = p. The paper excludes this range (its
// ZB-H2 warm-up needs 2p - 1 micro-batches); this is the exact value the generator reaches there, for W <= min(F, B).
TEST(closed_form, zb_h2_with_fewer_than_2p_minus_1_microbatches_loses_one_w_per_missing_microbatch) {
  int checked = 0;
  for (const auto& c : cost_sets) {
    for (int p = 2; p <= 8; ++p) {
      for (int m = p; m < 2 * p - 1; ++m) {
        const auto sim = run(pp::kind::zb_h2, p, m, c);
        const double expected = (p - 1) * (c.f + c.b - 2 * c.w) + (2 * p - 1 - m) * c.w;
        for (int r = 0; r < p; ++r) {
          ASSERT_NEAR(sim.bubble(r), expected, 1e-9) << where(pp::kind::zb_h2, p, m, c, r);
        }
        if (m == p) {
          ASSERT_NEAR(expected, (p - 1) * (c.f + c.b - c.w), 1e-9);
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 4 * (1 + 2 + 3 + 4 + 5 + 6 + 7));
}

TEST(closed_form, zb_h2_is_never_slower_than_zb_h1) {
  for (const auto& c : {fbw{1, 1, 1}, fbw{2, 3, 1}, fbw{1.5, 2.5, 1}, fbw{3, 2, 1}, fbw{1, 1, 2}, fbw{1, 1, 3}}) {
    for (int p = 2; p <= 8; ++p) {
      for (int m = p; m <= 4 * p; ++m) {
        const auto h2 = run(pp::kind::zb_h2, p, m, c);
        const auto h1 = run(pp::kind::zb_h1, p, m, c);
        ASSERT_LE(h2.cost(), h1.cost() + 1e-9) << where(pp::kind::zb_h2, p, m, c, 0);
        ASSERT_GE(h2.bubble(0), std::max(0.0, (p - 1) * (c.f + c.b - 2 * c.w)) - 1e-9)
            << where(pp::kind::zb_h2, p, m, c, 0);
      }
    }
  }
}

TEST(closed_form, interleaved_idles_p_minus_1_times_f_plus_b_plus_w_over_v) {
  // Per-chunk costs c: a rank's per-micro-batch work is F+B+W = v(c.f+c.b+c.w), its idle (p-1)(F+B+W)/v.
  int checked = 0;
  for (const auto& c : cost_sets) {
    for (int v = 2; v <= 3; ++v) {
      for (int p = 2; p <= 8; ++p) {
        for (int m = p; m <= 4 * p; m += p) {
          const auto sim = run(pp::kind::interleaved, p, m, c, v);
          const double per_mb = v * (c.f + c.b + c.w);
          for (int r = 0; r < p; ++r) {
            ASSERT_NEAR(sim.idle(r), (p - 1) * per_mb / v, 1e-9) << where(pp::kind::interleaved, p, m, c, r);
            ASSERT_NEAR(sim.busy(r), m * per_mb, 1e-9);
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 2 * 7 * 4);
}

// Peak activations in micro-batches of one stage, held from F until I (or B), as the Zero Bubble paper counts them
// (costs.hpp): GPipe m, 1F1B p - r on rank r, ZB-H1 exactly 1F1B's (it defers only W's), and p until W on every rank
// (rank r holds r deferred W's beside its p - r in flight), ZB-H2 2(p - r) - 1 on rank r with enough micro-batches,
// so at most 2p - 1.
TEST(closed_form, peak_activations_follow_the_papers_bounds) {
  int checked = 0;
  for (const auto& c : {fbw{1, 1, 1}, fbw{2, 3, 1}, fbw{3, 2, 1}, fbw{1, 1, 2}}) {
    for (int p = 2; p <= 8; ++p) {
      for (int m = p; m <= 4 * p; ++m) {
        const auto g = run(pp::kind::gpipe, p, m, c);
        const auto o = run(pp::kind::one_f_one_b, p, m, c);
        const auto h1 = run(pp::kind::zb_h1, p, m, c);
        const auto h2 = run(pp::kind::zb_h2, p, m, c);
        for (int r = 0; r < p; ++r) {
          const auto at = where(pp::kind::zb_h1, p, m, c, r);
          ASSERT_EQ(g.peak_activations(r), m) << at;
          ASSERT_EQ(o.peak_activations(r), p - r) << at;
          ASSERT_EQ(o.peak_activations_until_w(r), p - r) << at;  // 1F1B's fused B frees everything
          ASSERT_EQ(h1.peak_activations(r), o.peak_activations(r)) << at;
          ASSERT_LE(h1.peak_activations_until_w(r), p) << at;
          ASSERT_EQ(h2.peak_activations(r), std::min(m, 2 * (p - r) - 1)) << at;
          ASSERT_LE(h2.peak_activations_until_w(r), 2 * p - 1) << at;
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 4 * 112);
}

TEST(closed_form, bubble_rates_match_their_definitions) {
  for (int p = 2; p <= 8; ++p) {
    for (int m = p; m <= 4 * p; m += p) {
      const auto sim = run(pp::kind::one_f_one_b, p, m, {2, 3, 1});
      // Megatron: (p-1)/m. Zero Bubble paper: (cost - m(F+B+W)) / cost = (p-1)/(m+p-1).
      EXPECT_NEAR(sim.megatron_bubble(), static_cast<double>(p - 1) / m, 1e-12);
      EXPECT_NEAR(sim.bubble_rate(), static_cast<double>(p - 1) / (m + p - 1), 1e-12);
      EXPECT_NEAR(sim.makespan(), (m + p - 1) * 6.0, 1e-9);
    }
  }
}

TEST(closed_form, zero_bubble_kinds_beat_1f1b) {
  for (int p = 2; p <= 8; ++p) {
    for (int m = p; m <= 4 * p; m += p) {
      const fbw c{2, 3, 1};
      const double base = run(pp::kind::one_f_one_b, p, m, c).makespan();
      for (const auto k : {pp::kind::zb_h1, pp::kind::zb_h2, pp::kind::zb_auto}) {
        EXPECT_LT(run(k, p, m, c).makespan(), base) << where(k, p, m, c, 0);
      }
      // ZB-V splits each rank's layers into two chunks, each half the work.
      const fbw half{c.f / 2, c.b / 2, c.w / 2};
      EXPECT_LT(run(pp::kind::zb_v, p, m, half).makespan(), base) << where(pp::kind::zb_v, p, m, half, 0);
    }
  }
}
