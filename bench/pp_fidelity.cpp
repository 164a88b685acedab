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
#include <string>
#include <vector>

namespace pp = taskpipe::pp;

namespace {

constexpr const char* usage =
    "usage: pp_fidelity [--unit-ms U] [--reps N]\n"
    "  Runs every schedule kind with sleep kernels (p in {4, 8}, m in {8, 16, 32}) and prints its measured makespan\n"
    "  against the simulated one. About two minutes with the defaults.\n"
    "  --unit-ms U  milliseconds per cost unit, 0.1 to 1000 (default 10)\n"
    "  --reps N     repetitions of every configuration, 1 to 1000 (default 5); the median is the figure\n";

// Reads a whole-string number in [lo, hi] into `out`; false (out untouched) for anything else.
bool parse_number(const char* text, double lo, double hi, double& out) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v >= lo && v <= hi)) {
    return false;
  }
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double unit_ms = 10;
  double reps_value = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    const bool unit = a == "--unit-ms";
    if (!unit && a != "--reps") {
      std::fprintf(stderr, "pp_fidelity: error: unknown option '%s'\n%s", argv[i], usage);
      return 2;
    }
    if (i + 1 == argc) {
      std::fprintf(stderr, "pp_fidelity: error: %s needs a value\n", argv[i]);
      return 2;
    }
    const char* value = argv[++i];
    const bool ok = unit ? parse_number(value, 0.1, 1000, unit_ms)
                         : parse_number(value, 1, 1000, reps_value) && reps_value == std::floor(reps_value);
    if (!ok) {
      std::fprintf(stderr, "pp_fidelity: error: %s %s is out of range; accepted: %s\n", a.c_str(), value,
                   unit ? "0.1 to 1000 (milliseconds)" : "a whole number from 1 to 1000");
      return 2;
    }
  }
  const int reps = static_cast<int>(reps_value);
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
