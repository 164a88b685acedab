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
  pp::schedule_options o{.stages = p, .microbatches = m, .chunks = chunks};
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

TEST(closed_form, zb_h2_idles_p_minus_1_times_f_plus_b_minus_2w_where_memory_allows) {
  // H2 needs 2p - 1 micro-batches to fill its warm-up, and W small against F and B (see generators.hpp).
  expect_idle(
      pp::kind::zb_h2, [](int p, const fbw& c) { return (p - 1) * (c.f + c.b - 2 * c.w); },
      [](int p, int m, const fbw& c) { return m >= 2 * p - 1 && c.f >= 2 * c.w && c.b >= 2 * c.w; });
}

TEST(closed_form, zb_h2_elsewhere_lies_between_its_closed_form_and_zb_h1) {
  for (const auto& c : cost_sets) {
    for (int p = 2; p <= 8; ++p) {
      for (int m = p; m <= 4 * p; m += p) {
        const auto h2 = run(pp::kind::zb_h2, p, m, c);
        const auto h1 = run(pp::kind::zb_h1, p, m, c);
        EXPECT_LE(h2.makespan(), h1.makespan() + 1e-9) << where(pp::kind::zb_h2, p, m, c, 0);
        EXPECT_GE(h2.idle(0), (p - 1) * (c.f + c.b - 2 * c.w) - 1e-9) << where(pp::kind::zb_h2, p, m, c, 0);
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

TEST(closed_form, gpipe_holds_m_activations_and_1f1b_p_minus_r) {
  for (int p = 2; p <= 8; ++p) {
    for (int m = p; m <= 4 * p; ++m) {
      const auto g = run(pp::kind::gpipe, p, m, {2, 3, 1});
      const auto o = run(pp::kind::one_f_one_b, p, m, {2, 3, 1});
      for (int r = 0; r < p; ++r) {
        ASSERT_EQ(g.peak_activations(r), m) << "gpipe p=" << p << " m=" << m << " rank " << r;
        ASSERT_EQ(o.peak_activations(r), p - r) << "1f1b p=" << p << " m=" << m << " rank " << r;
      }
    }
  }
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

TEST(closed_form, zb_h1_memory_until_i_stays_at_1f1b_and_zero_bubble_kinds_beat_1f1b) {
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
      const auto h1 = run(pp::kind::zb_h1, p, m, c);
      for (int r = 0; r < p; ++r) {
        EXPECT_LE(h1.peak_activations(r), 2 * p - r - 1);
      }
    }
  }
}
