// Executor fidelity: the stage runtime's measured makespan against the simulator's, with sleep kernels, for every
// schedule kind, p in {4, 8}, m in {8, 16, 32}. Sleep kernels use no core, so 8 ranks time honestly on 2 cores.
//
//   pp_fidelity [--unit-ms U] [--reps N]     (defaults: U = 4 ms per cost unit, N = 3; the median run is kept)
//
// Costs per stage: F = B = W = 1 unit; interleaved and zb-v put two chunks on a rank, so their chunks cost half.
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
  double unit_ms = 4;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--unit-ms") == 0) unit_ms = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
  }
  if (unit_ms <= 0 || reps < 1) {
    std::fprintf(stderr, "pp_fidelity: --unit-ms must be > 0 and --reps >= 1\n");
    return 2;
  }
  std::printf("%-12s %3s %3s %14s %14s %8s\n", "kind", "p", "m", "simulated_ms", "measured_ms", "ratio");
  double worst = 0;
  for (const auto k : pp::all_kinds()) {
    const bool two_chunks = k == pp::kind::interleaved || k == pp::kind::zb_v;
    const double per = two_chunks ? 0.5 : 1.0;
    const auto c = pp::costs::uniform({.f = per, .b = per, .w = per});
    for (const int p : {4, 8}) {
      for (const int m : {8, 16, 32}) {
        pp::schedule_options o{.stages = p, .microbatches = m, .chunks = 2};
        o.planning_costs = c;
        const auto s = pp::make_schedule(k, o);
        const double simulated_ms = pp::simulate(s, c).makespan() * unit_ms;
        const auto kernels = pp::sleep_kernels(c, s.stages, std::chrono::duration<double, std::milli>(unit_ms));
        std::vector<double> measured;
        for (int r = 0; r < reps; ++r) measured.push_back(pp::run_schedule(s, kernels).makespan_s * 1e3);
        std::sort(measured.begin(), measured.end());
        const double median = measured[measured.size() / 2];
        const double ratio = median / simulated_ms;
        worst = std::max(worst, std::abs(ratio - 1));
        std::printf("%-12s %3d %3d %14.1f %14.1f %8.4f\n", std::string(pp::kind_name(k)).c_str(), p, m, simulated_ms,
                    median, ratio);
        std::fflush(stdout);
      }
    }
  }
  std::printf("worst |ratio - 1| = %.2f%%\n", worst * 100);
  return 0;
}
