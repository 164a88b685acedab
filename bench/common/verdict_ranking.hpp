// How bench/verdict_accuracy judges a verdict's order and pick, for chains and models alike:
//   kendall_tau_b   Kendall's tau-b between predicted and measured rates (higher is better for both);
//   judge_pick      whether a pick meets the verdict issue's target: it is the measured best whenever the best leads
//                   the runner-up by more than max(3 %, twice the best's measured spread), else at most 3 % slower.
// Header-only, pure functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace taskpipe::bench {

/// Kendall's tau-b between predicted (`a`) and measured (`b`) rates, index by index. Predictions within 0.5 % of each
/// other are the model's ties (the same bound); measured rates tie only when equal. 1 when fewer than two pairs
/// order anything.
inline double kendall_tau_b(const std::vector<double>& a, const std::vector<double>& b) {
  const auto sign = [](double x) { return (x > 0) - (x < 0); };
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      const int sa = std::abs(a[i] - a[j]) <= 0.005 * std::max(a[i], a[j]) ? 0 : sign(a[i] - a[j]);
      const int sb = sign(b[i] - b[j]);
      if (sa == 0 && sb == 0) continue;
      if (sa == 0) {
        ++ties_a;
        continue;
      }
      if (sb == 0) {
        ++ties_b;
        continue;
      }
      (sa == sb ? concordant : discordant) += 1;
    }
  }
  const double n1 = concordant + discordant + ties_a;
  const double n2 = concordant + discordant + ties_b;
  return n1 > 0 && n2 > 0 ? (concordant - discordant) / std::sqrt(n1 * n2) : 1.0;
}

struct pick_judgment {
  bool ok = false;
  bool clear_lead = false;  ///< the best led the runner-up by more than max(3 %, 2 x its spread)
  double gap = 0;           ///< how much slower than the measured best the pick was, 1 - picked / best
};

/// `rates` are the measured rates (higher is better) of every candidate in the pool, `spreads` their measured
/// spreads, `picked` the index of the pick. An empty pool or a pick out of range is not ok.
inline pick_judgment judge_pick(const std::vector<double>& rates, const std::vector<double>& spreads,
                                std::size_t picked) {
  pick_judgment j;
  if (rates.empty() || picked >= rates.size()) {
    return j;
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < rates.size(); ++i) {
    if (rates[i] > rates[best]) best = i;
  }
  double runner_up = 0;
  for (std::size_t i = 0; i < rates.size(); ++i) {
    if (i != best) runner_up = std::max(runner_up, rates[i]);
  }
  j.gap = 1 - rates[picked] / rates[best];
  j.clear_lead = rates[best] > runner_up * (1 + std::max(0.03, 2 * spreads[best]));
  j.ok = j.clear_lead ? rates[picked] == rates[best] : j.gap <= 0.03;
  return j;
}

}  // namespace taskpipe::bench
