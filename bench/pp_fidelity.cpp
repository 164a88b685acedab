// Executor fidelity: the stage runtime's measured makespan against the simulator's, with sleep kernels, for every
// schedule kind, p in {4, 8}, m in {8, 16, 32}. Sleep kernels use no core, so 8 ranks time honestly on 2 cores.
//
//   pp_fidelity [--unit-ms U] [--reps N]     (defaults: U = 10 ms per cost unit, N = 5)
//
// The repetitions run in rounds over all configurations, so a burst of load from other jobs on a shared machine hits
// one repetition of many configurations rather than every repetition of one; the median is the figure, the minimum
// (the run the machine disturbed least) is printed beside it.
//
// Costs per stage: F = B = W = 1 unit; interleaved, zb-v and dualpipe-v put two chunks on a rank, so their chunks cost
// half.
#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>
#include <taskpipe/pp/sleep_kernels.hpp>
#include <taskpipe/pp/stage_runtime.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace pp = taskpipe::pp;

int main(int argc, char** argv) {
  double unit_ms = 10;
  int reps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--unit-ms") == 0) unit_ms = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
  }
  if (unit_ms <= 0 || reps < 1) {
    std::fprintf(stderr, "pp_fidelity: --unit-ms must be > 0 and --reps >= 1\n");
    return 2;
  }
  struct config {
    pp::kind k;
    pp::schedule s;
    pp::costs c;
    std::vector<double> measured_ms;
  };
  std::vector<config> configs;
  for (const auto k : pp::all_kinds()) {
    const bool two_chunks = k == pp::kind::interleaved || k == pp::kind::zb_v || k == pp::kind::dualpipe_v;
    const double per = two_chunks ? 0.5 : 1.0;
    const auto c = pp::costs::uniform({.f = per, .b = per, .w = per});
    for (const int p : {4, 8}) {
      for (const int m : {8, 16, 32}) {
        if (k == pp::kind::dualpipe_v && m < 2 * p) {
          continue;  // it needs a micro-batch per stage of its V
        }
        pp::schedule_options o{.ranks = p, .microbatches = m, .chunks = 2};
        o.planning_costs = c;
        configs.push_back({k, pp::make_schedule(k, o), c, {}});
      }
    }
  }
  const std::chrono::duration<double, std::milli> unit(unit_ms);
  for (int round = 0; round < reps; ++round) {
    for (auto& cfg : configs) {
      const auto kernels = pp::sleep_kernels(cfg.c, cfg.s.stages, unit);
      cfg.measured_ms.push_back(pp::run_schedule(cfg.s, kernels).makespan_s * 1e3);
    }
  }
  std::printf("%-12s %3s %3s %13s %12s %8s %10s\n", "kind", "p", "m", "simulated_ms", "median_ms", "ratio",
              "min_ratio");
  double worst = 0;
  for (auto& cfg : configs) {
    const double simulated_ms = pp::simulate(cfg.s, cfg.c).makespan() * unit_ms;
    std::sort(cfg.measured_ms.begin(), cfg.measured_ms.end());
    const double median = cfg.measured_ms[cfg.measured_ms.size() / 2];
    const double ratio = median / simulated_ms;
    worst = std::max(worst, std::abs(ratio - 1));
    std::printf("%-12s %3d %3d %13.1f %12.1f %8.4f %10.4f\n", std::string(pp::kind_name(cfg.k)).c_str(), cfg.s.ranks,
                cfg.s.microbatches, simulated_ms, median, ratio, cfg.measured_ms.front() / simulated_ms);
  }
  std::printf("worst |ratio - 1| = %.2f%%\n", worst * 100);
  return 0;
}
