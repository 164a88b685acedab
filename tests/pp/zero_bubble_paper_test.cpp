// The zero-bubble kinds against the Zero Bubble paper (Qi, Wan, Huang, Lin, ICLR 2024, arXiv 2401.10241).
//
// Costs: the paper's Table 9 (profiled T_F, T_B, T_W, T_comm per configuration, here in its code's integer units,
// microseconds x 1000 / 1000; a bubble rate does not depend on the unit). Bubble rates: the paper's Table 5 (1F1B,
// ZB-H1, ZB-H2, ZB-1p, ZB-2p). Both were read from the authors' repository, sail-sg/zero-bubble-pipeline-parallelism,
// megatron/core/pipeline_parallel/efficiency.py: its `iclr_bubble_rates` settings (Table 9's rows) and the LaTeX rows
// of Table 5 kept at the end of that file. The paper's memory model is its code's too: an F holds 34h + 5as
// (s = 1024), the W's part of it is 32h, and ZB-1p / ZB-2p are its heuristic under limits of p and 2p of those.
#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace pp = taskpipe::pp;

namespace {

struct paper_row {
  int p, m;
  double f, b, w, comm;                            // Table 9
  int h, a;                                        // hidden size and heads, for the memory model
  double one_f_one_b, zb_h1, zb_h2, zb_1p, zb_2p;  // Table 5
};

// 1.5B (p = 8), 6.2B (p = 8), 14.6B (p = 16), 28.3B (p = 32), three micro-batch counts each.
constexpr paper_row table5[] = {
    {8, 24, 18522, 18086, 9337, 601, 2304, 24, 0.2431, 0.1585, 0.1083, 0.1585, 0.0433},
    {8, 32, 18513, 18086, 9331, 626, 2304, 24, 0.1985, 0.1242, 0.0837, 0.1242, 0.0039},
    {8, 64, 18546, 18097, 9321, 762, 2304, 24, 0.1240, 0.0674, 0.0444, 0.0674, 0.0026},
    {8, 24, 29718, 29444, 19927, 527, 4096, 32, 0.2347, 0.1323, 0.0698, 0.1323, 0.0029},
    {8, 32, 29802, 29428, 19530, 577, 4096, 32, 0.1898, 0.1045, 0.0559, 0.1045, 0.0022},
    {8, 64, 29935, 29621, 19388, 535, 4096, 32, 0.1091, 0.0554, 0.0294, 0.0554, 0.0010},
    {16, 48, 11347, 11248, 8132, 377, 5120, 40, 0.2552, 0.1397, 0.0672, 0.1397, 0.0066},
    {16, 64, 11307, 11254, 8101, 379, 5120, 40, 0.2082, 0.1088, 0.0516, 0.1088, 0.0054},
    {16, 128, 11325, 11308, 8109, 378, 5120, 40, 0.1251, 0.0576, 0.0266, 0.0576, 0.0028},
    {32, 96, 10419, 10207, 7715, 408, 6144, 48, 0.2646, 0.1421, 0.0641, 0.1421, 0.0038},
    {32, 128, 10408, 10204, 7703, 408, 6144, 48, 0.2168, 0.1106, 0.0490, 0.1106, 0.0029},
    {32, 256, 10402, 10248, 7698, 460, 6144, 48, 0.1352, 0.0594, 0.0257, 0.0594, 0.0018},
};

// Half a unit in the fourth decimal, the precision Table 5 prints.
constexpr double fourth_decimal = 0.5e-4;

pp::costs paper_costs(const paper_row& r) {
  return pp::costs::uniform({.f = r.f,
                             .b = r.b,
                             .w = r.w,
                             .comm = r.comm,
                             .activation_bytes = 34.0 * r.h + 5.0 * r.a * 1024,
                             .w_bytes = 32.0 * r.h});
}

pp::simulation run(pp::kind k, const paper_row& r, int memory_limit = 0) {
  pp::schedule_options o{.ranks = r.p, .microbatches = r.m};
  o.planning_costs = paper_costs(r);
  o.memory_limit = memory_limit;
  return pp::simulate(pp::make_schedule(k, o), *o.planning_costs);
}

std::string where(const paper_row& r) { return "p=" + std::to_string(r.p) + " m=" + std::to_string(r.m); }

double max_peak(const pp::simulation& s) {
  double out = 0;
  for (int r = 0; r < s.ranks(); ++r) {
    out = std::max(out, s.peak_memory(r));
  }
  return out;
}

}  // namespace

TEST(zero_bubble_paper, one_f_one_b_and_zb_h1_equal_table_5_in_all_twelve_configurations) {
  for (const auto& r : table5) {
    EXPECT_NEAR(run(pp::kind::one_f_one_b, r).bubble_rate(), r.one_f_one_b, fourth_decimal) << where(r);
    const auto h1 = run(pp::kind::zb_h1, r);
    EXPECT_NEAR(h1.bubble_rate(), r.zb_h1, fourth_decimal) << where(r);
    // The paper's claim for ZB-H1: 1F1B's memory, p M_B on the first rank.
    EXPECT_LE(max_peak(h1), r.p + 1e-9) << where(r);
  }
}

TEST(zero_bubble_paper, zb_h2_equals_table_5_where_the_parallelogram_applies) {
  for (const auto& r : table5) {
    if (r.p > 16) {
      continue;  // the p = 32 rows take long in sanitizer builds; the CLI's --compare shows them
    }
    EXPECT_NEAR(run(pp::kind::zb_h2, r).bubble_rate(), r.zb_h2, fourth_decimal) << where(r);
  }
}

// zb-auto at the paper's two limits: equal to or below its automatic schedules ZB-1p and ZB-2p. The p = 32 rows
// (32 x 256 is the planning-time target) run in `taskpipe schedule --compare` rather than here, to keep the
// sanitizer runs short.
TEST(zero_bubble_paper, zb_auto_is_at_most_zb_1p_and_zb_2p_of_table_5) {
  int checked = 0;
  for (const auto& r : table5) {
    if (r.p > 8 && r.m > 48) {
      continue;
    }
    const auto one = run(pp::kind::zb_auto, r, r.p);
    EXPECT_LE(one.bubble_rate(), r.zb_1p + fourth_decimal) << where(r);
    EXPECT_LE(max_peak(one), r.p + 1e-9) << where(r);
    const auto two = run(pp::kind::zb_auto, r, 2 * r.p);
    EXPECT_LE(two.bubble_rate(), r.zb_2p + fourth_decimal) << where(r);
    EXPECT_LE(max_peak(two), 2 * r.p + 1e-9) << where(r);
    ++checked;
  }
  EXPECT_EQ(checked, 7);
}

// ZB-V under the arXiv version's Table 9 costs (its p = 16, 24, 32 configurations of the 6.2B, 14.6B and 28.3B
// models; per chunk F, B, W as its code passes them to the V greedy, activation memory as above). The printed Table 8
// could not be read with the tools this project had; the rates below are what the authors' own ZB-V code
// (megatron/core/pipeline_parallel/v_schedule.py, called as efficiency.py's `arxiv_bubble_rates` calls it) gives for
// these costs, computed by running a transcription of it outside this project, so they pin our greedy to the
// authors' algorithm, not to the printed table. The other rows (24 x 192 and p = 32: 0.0250, 0.0593, 0.0451, 0.0236)
// are left out to keep the sanitizer runs short; `taskpipe schedule --compare` shows them.
TEST(zero_bubble_paper, zb_v_equals_the_authors_v_greedy_under_the_arxiv_costs) {
  struct v_row {
    int p, m;
    double f, b, w, comm;
    int h, a;
    double bubble_rate;
  };
  constexpr v_row rows[] = {
      {16, 48, 14407, 14380, 9676, 1610, 4096, 32, 0.0697},
      {16, 64, 14412, 14393, 9688, 1621, 4096, 32, 0.0533},
      {16, 128, 14316, 14306, 9639, 1619, 4096, 32, 0.0274},
      {24, 72, 6763, 6969, 5251, 755, 5120, 40, 0.0638},
  };
  for (const auto& r : rows) {
    const auto c = pp::costs::uniform({.f = r.f,
                                       .b = r.b,
                                       .w = r.w,
                                       .comm = r.comm,
                                       .activation_bytes = 34.0 * r.h + 5.0 * r.a * 1024,
                                       .w_bytes = 32.0 * r.h});
    pp::schedule_options o{.ranks = r.p, .microbatches = r.m};
    o.planning_costs = c;
    const auto sim = pp::simulate(pp::make_schedule(pp::kind::zb_v, o), c);
    EXPECT_NEAR(sim.bubble_rate(), r.bubble_rate, fourth_decimal) << "p=" << r.p << " m=" << r.m;
    EXPECT_LE(max_peak(sim), r.p + 1e-9) << "p=" << r.p << " m=" << r.m;  // 1F1B's memory, the paper's claim
  }
}
