// Planning time of the zero-bubble planners at the Zero Bubble paper's largest configuration: the 28.3B model,
// p = 32 ranks, m = 256 micro-batches, with the paper's profiled costs (its Table 9; per chunk for zb-v, as its code
// passes them) and activation memory (34h + 5as, 32h of it held until W, h = 6144, a = 48, s = 1024).
//
//   pp_planning [--reps N]     (default N = 3; prints the median and the fastest wall time of each planner)
//
// The target (issue 13): zb-auto plans 32 x 256 in under 5 s. The figure depends on the build and the machine's load:
// measure it with the bench or release preset on a quiet machine.
#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace pp = taskpipe::pp;

int main(int argc, char** argv) {
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("usage: pp_planning [--reps N]  (N >= 1, default 3)\n");
      return 0;
    }
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
      continue;
    }
    std::fprintf(stderr, "pp_planning: error: unknown argument '%s' (see --help)\n", argv[i]);
    return 2;
  }
  if (reps < 1) {
    std::fprintf(stderr, "pp_planning: error: --reps must be >= 1\n");
    return 2;
  }
  const double act = 34.0 * 6144 + 5.0 * 48 * 1024;
  const double wact = 32.0 * 6144;
  struct planner {
    const char* name;
    pp::kind k;
    int limit;
    pp::costs c;
  };
  const std::vector<planner> planners{
      {"zb-auto (limit p)", pp::kind::zb_auto, 32,
       pp::costs::uniform({.f = 10402, .b = 10248, .w = 7698, .comm = 460, .activation_bytes = act, .w_bytes = wact})},
      {"zb-auto (limit 2p)", pp::kind::zb_auto, 64,
       pp::costs::uniform({.f = 10402, .b = 10248, .w = 7698, .comm = 460, .activation_bytes = act, .w_bytes = wact})},
      {"zb-v", pp::kind::zb_v, 0,
       pp::costs::uniform({.f = 9447, .b = 9644, .w = 7193, .comm = 887, .activation_bytes = act, .w_bytes = wact})},
  };
  std::printf("%-20s %12s %12s %12s\n", "planner", "median_s", "min_s", "bubble_rate");
  for (const auto& pl : planners) {
    std::vector<double> seconds;
    double rate = 0;
    for (int r = 0; r < reps; ++r) {
      pp::schedule_options o{.ranks = 32, .microbatches = 256};
      o.planning_costs = pl.c;
      o.memory_limit = pl.limit;
      const auto t0 = std::chrono::steady_clock::now();
      const auto s = pp::make_schedule(pl.k, o);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      rate = pp::simulate(s, pl.c).bubble_rate();
    }
    std::sort(seconds.begin(), seconds.end());
    std::printf("%-20s %12.3f %12.3f %12.4f\n", pl.name, seconds[seconds.size() / 2], seconds.front(), rate);
  }
  return 0;
}
