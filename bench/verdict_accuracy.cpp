// Verdict accuracy, in two sections. Chains: the streaming verdict run on the built-in chains and on seeded random
// chains, with every candidate measured, against the targets of the verdict issue:
//   throughput error |predicted - measured| / measured: mean <= 5 %, worst <= 10 %;
//   ranking: the recommendation is the measured best when the best leads the runner-up by more than
//   max(3 %, twice the measured spread), else at most 3 % slower than the best; Kendall tau-b >= 0.9;
// and the gzip chain beside pigz (Debian's package) on the same file and threads. Models: the model verdict on the
// built-in model and seeded random GPT-2 configurations (verdict_models.hpp says what it reports).
//
//   verdict_accuracy [--only chains|models] [--chains N] [--reps R] [--mib M] [--models N] [--steps S] [--seed S]
//                    [--verbose]     (defaults: both; 8 random chains, 3 repetitions, 32 MiB; 6 random models, 3)
//   --verbose also prints every measured candidate of each chain (and each model); the chain summary gives the errors
//   of each strategy's candidates.
//
// Prints one line per chain or model and a summary per section with PASS or MISS per target. Say what else ran on the
// machine: on a shared 2-core VM the load other processes put on the cores moves every figure here.
#include <taskpipe/verdict/chain_workload.hpp>
#include <taskpipe/verdict/core_round_trip.hpp>
#include <taskpipe/verdict/gzip_chain.hpp>
#include <taskpipe/verdict/stream_verdict.hpp>
#include <taskpipe/verdict/synthetic_chain.hpp>
#include <taskpipe/verdict/text_chains.hpp>

#include "common/seeded_random.hpp"
#include "common/verdict_ranking.hpp"
#include "verdict_models.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <unistd.h>

namespace v = taskpipe::verdict;
namespace fs = std::filesystem;
namespace tb = taskpipe::bench;

namespace {

struct chain_result {
  std::string name;
  std::vector<double> errors;
  double tau = 0;
  bool pick_ok = false;
  double pick_gap = 0;                 // how much slower than the measured best the pick was
  std::vector<double> by_strategy[3];  // the errors of each strategy's candidates (token, pinned, farm)
  std::vector<std::pair<double, double>> by_round_trip;  // (the core-to-core round trip it was measured at, error)
  std::vector<double> not_reference;  // the errors of the candidates other than the calibration's reference runs
  std::size_t calibrations = 0;       // 1, or more where the machine changed under the chain
};

chain_result judge(const std::string& name, const v::chain_factory& make, v::stream_options o, bool verbose) {
  o.top = 64;  // every candidate
  const auto r = v::compare(make, o);
  chain_result c{name};
  std::vector<double> pred, meas, spreads;
  std::size_t picked = 0;
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    if (!row.measured) continue;
    if (i == r.recommended) picked = meas.size();
    c.errors.push_back(*row.error());
    c.by_strategy[static_cast<std::size_t>(row.predicted.candidate.strategy)].push_back(*row.error());
    pred.push_back(row.predicted.throughput);
    meas.push_back(row.measured->throughput);
    spreads.push_back(row.measured->spread);
    // The calibration fitted its contention terms to runs of these very candidates: they check the fit.
    if (!v::is_contention_reference(r.calibrations[row.calibration].profile, row.predicted.candidate,
                                    o.max_workers == 0 ? r.cores : o.max_workers)) {
      c.not_reference.push_back(*row.error());
    }
    c.by_round_trip.emplace_back(
        std::max(row.measured->core_round_trip_before_ns, row.measured->core_round_trip_after_ns), *row.error());
  }
  c.calibrations = r.calibrations.size();
  c.tau = tb::kendall_tau_b(pred, meas);
  const tb::pick_judgment j = tb::judge_pick(meas, spreads, picked);
  c.pick_ok = j.ok;
  c.pick_gap = j.gap;
  std::printf(
      "%-28s candidates %2zu  error mean %5.1f %%  worst %5.1f %%  tau %5.2f  pick %s (%.1f %% below best)%s\n",
      name.c_str(), c.errors.size(),
      100 * std::accumulate(c.errors.begin(), c.errors.end(), 0.0) / static_cast<double>(c.errors.size()),
      100 * *std::max_element(c.errors.begin(), c.errors.end()), c.tau, c.pick_ok ? "ok  " : "MISS", 100 * c.pick_gap,
      c.calibrations > 1 ? ("  calibrated " + std::to_string(c.calibrations) + "x: the machine changed").c_str() : "");
  if (verbose) {  // every measured candidate
    for (const auto& row : r.rows) {
      if (row.measured) {
        std::printf(
            "    %-34s predicted %10.0f/s  measured %10.0f/s  error %6.1f %%  round trip %4.0f/%4.0f ns (calibration "
            "%zu: %4.0f ns)  %s\n",
            row.predicted.candidate.label().c_str(), row.predicted.throughput, row.measured->throughput,
            100 * *row.error(), row.measured->core_round_trip_before_ns, row.measured->core_round_trip_after_ns,
            row.calibration, r.calibrations[row.calibration].profile.core_round_trip_ns,
            row.predicted.bound_text(r.profile).c_str());
        if (row.predicted.candidate.strategy == taskpipe::execution_strategy::pinned) {
          std::printf("      ran on %zu threads: %s\n", row.measured->threads, row.measured->placement.c_str());
        }
      }
    }
  }
  std::fflush(stdout);
  return c;
}

v::chain_workload random_chain(std::uint64_t seed) {
  taskpipe::bench::seeded_random random(seed, 7);
  auto next = [&random] { return random.next(); };
  auto unit = [&] { return static_cast<double>(next() % 10000) / 10000.0; };
  v::chain_workload w;
  w.name = "random-" + std::to_string(seed);
  const std::size_t n = 2 + next() % 5;
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v::stage_workload st;
    st.name = "s" + std::to_string(i);
    const auto m = next() % 3;
    st.mode = i == 0   ? taskpipe::serial_in_order
              : m == 0 ? taskpipe::serial_in_order
              : m == 1 ? taskpipe::serial_out_of_order
                       : taskpipe::parallel;
    st.cost_us = 5 + 150 * unit() * unit();
    st.spread = unit();
    st.state_bytes = next() % 4 == 0 ? (std::size_t{1} << (12 + next() % 9)) : 0;
    st.item_bytes = 64 + next() % 1024;
    total += st.cost_us;
    w.stages.push_back(st);
  }
  w.items = static_cast<std::size_t>(std::clamp(150'000.0 / total, 200.0, 5000.0));  // about 0.15 s serially
  return w;
}

struct options {
  bool chains_on = true, models_on = true, verbose = false;
  int chains = 8, reps = 3, mib = 32;
  std::uint64_t seed = 1;
  tb::model_section_options models;
};

constexpr const char* usage =
    "usage: verdict_accuracy [--only chains|models] [--chains N] [--reps R] [--mib M] [--models N] [--steps S]\n"
    "                        [--seed S] [--verbose]     (--verbose: every measured candidate, chains and models)\n"
    "  defaults: both sections; 8 random chains, 3 repetitions, 32 MiB; 6 random models, 3 steps; seed 1\n";

// Parses argv into o; returns 0 to go on, 1 after --help, 2 after one line about bad input.
int parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", usage);
      return 1;
    }
    if (a == "--verbose") {
      o.models.verbose = o.verbose = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "verdict_accuracy: %s needs a value\n", a.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (a == "--only" && (value == "chains" || value == "models")) {
      o.chains_on = value == "chains";
      o.models_on = value == "models";
      continue;
    }
    char* end = nullptr;
    const long x = std::strtol(value.c_str(), &end, 10);
    const bool number = !value.empty() && *end == '\0';
    if (number && a == "--chains" && x >= 0 && x <= 1000)
      o.chains = static_cast<int>(x);
    else if (number && a == "--reps" && x >= 1 && x <= 100)
      o.reps = static_cast<int>(x);
    else if (number && a == "--seed" && x >= 0)
      o.seed = o.models.seed = static_cast<std::uint64_t>(x);
    else if (number && a == "--mib" && x >= 1 && x <= 4096)
      o.mib = static_cast<int>(x);
    else if (number && a == "--models" && x >= 0 && x <= 1000)
      o.models.models = static_cast<int>(x);
    else if (number && a == "--steps" && x >= 1 && x <= 100)
      o.models.steps = static_cast<int>(x);
    else {
      std::fprintf(stderr, "verdict_accuracy: bad option %s %s (see --help for the accepted values)\n", a.c_str(),
                   value.c_str());
      return 2;
    }
  }
  return 0;
}

void run_chain_section(const options& opt) {
  const int chains = opt.chains, reps = opt.reps, mib = opt.mib;
  const std::uint64_t seed = opt.seed;
  const v::stream_options base{.repetitions = static_cast<std::size_t>(reps)};
  std::vector<chain_result> results;
  const fs::path dir = fs::temp_directory_path() / ("verdict-accuracy-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto in = (dir / "in.txt").string();
  v::write_generated_text(in, static_cast<std::size_t>(mib) << 20U);
  const auto out = (dir / "out.gz").string();
  results.push_back(judge("builtin gzip", v::gzip_chain({.input = in, .output = out}), base, opt.verbose));
  results.push_back(judge("builtin words", v::word_frequency_chain(100000), base, opt.verbose));
  auto state_opts = base;
  state_opts.state_bytes = {0, 0, std::size_t{1} << 20U, 0};
  results.push_back(judge("builtin state", v::stateful_chain(100000), state_opts, opt.verbose));
  for (int c = 0; c < chains; ++c) {
    const auto w = random_chain(seed + static_cast<std::uint64_t>(c));
    auto o = base;
    for (const auto& st : w.stages) {
      o.state_bytes.push_back(st.state_bytes);
      o.item_bytes.push_back(st.item_bytes);
    }
    results.push_back(judge(
        w.name + " (" + std::to_string(w.stages.size()) + " stages)",
        [w](taskpipe::executor& ex, const taskpipe::pipeline_options& po) {
          return v::make_synthetic_pipeline(ex, w, po);
        },
        o, opt.verbose));
  }
  // pigz on the same file and threads, against the gzip chain's best measured rate.
  if (std::system("command -v pigz >/dev/null 2>&1") == 0) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string cmd = "pigz -p 2 -6 -b 128 -c '" + in + "' > '" + (dir / "pigz.gz").string() + "'";
    if (std::system(cmd.c_str()) == 0) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("pigz -p 2 -6 -b 128: %.1f MiB/s on the same %d MiB (the gzip chain's rate: chunks/s x 128 KiB)\n",
                  mib / s, mib);
    }
  }
  fs::remove_all(dir);
  std::vector<double> all;
  double worst_tau = 1;
  int picks = 0;
  for (const auto& r : results) {
    all.insert(all.end(), r.errors.begin(), r.errors.end());
    worst_tau = std::min(worst_tau, r.tau);
    picks += r.pick_ok ? 1 : 0;
  }
  for (const auto s : {taskpipe::execution_strategy::token, taskpipe::execution_strategy::pinned,
                       taskpipe::execution_strategy::farm}) {
    std::vector<double> errs;
    for (const auto& r : results) {
      const auto& e = r.by_strategy[static_cast<std::size_t>(s)];
      errs.insert(errs.end(), e.begin(), e.end());
    }
    if (!errs.empty()) {
      std::printf("%-7s %3zu measured candidates: throughput error mean %5.1f %%, worst %5.1f %%\n",
                  std::string(to_string(s)).c_str(), errs.size(),
                  100 * std::accumulate(errs.begin(), errs.end(), 0.0) / static_cast<double>(errs.size()),
                  100 * *std::max_element(errs.begin(), errs.end()));
    }
  }
  // The machine under the run: the core-to-core round trip each candidate was measured at, split at the geometric
  // mean of the fastest and the slowest seen (a VM's host moves its cores between near and far placements; see
  // core_round_trip.hpp).
  double fastest = 0;
  double slowest = 0;
  std::size_t recalibrated = 0;
  for (const auto& r : results) {
    recalibrated += r.calibrations - 1;
    for (const auto& [rt, e] : r.by_round_trip) {
      if (rt > 0) {
        fastest = fastest == 0 ? rt : std::min(fastest, rt);
        slowest = std::max(slowest, rt);
      }
    }
  }
  if (fastest > 0) {
    std::printf(
        "machine: core-to-core round trip %.0f to %.0f ns over the run; %zu calibration(s) added because it "
        "changed\n",
        fastest, slowest, recalibrated);
  }
  if (fastest > 0 && v::core_latency_changed(fastest, slowest)) {
    const double split = std::sqrt(fastest * slowest);
    for (const bool near : {true, false}) {
      std::vector<double> errs;
      for (const auto& r : results) {
        for (const auto& [rt, e] : r.by_round_trip) {
          if ((rt <= split) == near) {
            errs.push_back(e);
          }
        }
      }
      if (!errs.empty()) {
        std::printf(
            "  measured at a %s round trip (%s %.0f ns): %3zu candidates, error mean %5.1f %%, worst %5.1f %%\n",
            near ? "near" : "far", near ? "<=" : ">", split, errs.size(),
            100 * std::accumulate(errs.begin(), errs.end(), 0.0) / static_cast<double>(errs.size()),
            100 * *std::max_element(errs.begin(), errs.end()));
      }
    }
  }
  {
    std::vector<double> others;
    for (const auto& r : results) {
      others.insert(others.end(), r.not_reference.begin(), r.not_reference.end());
    }
    if (!others.empty() && others.size() < all.size()) {
      std::printf(
          "without the calibration's reference runs (token and pinned on every worker, 16 in flight, whose "
          "contention is fitted to them): %zu candidates, error mean %5.1f %%, worst %5.1f %%\n",
          others.size(), 100 * std::accumulate(others.begin(), others.end(), 0.0) / static_cast<double>(others.size()),
          100 * *std::max_element(others.begin(), others.end()));
    }
  }
  const double mean = std::accumulate(all.begin(), all.end(), 0.0) / static_cast<double>(all.size());
  const double worst = *std::max_element(all.begin(), all.end());
  std::printf("\nsummary over %zu chains, %zu measured candidates:\n", results.size(), all.size());
  std::printf("  throughput error mean  %5.1f %%   target <= 5 %%   %s\n", 100 * mean, mean <= 0.05 ? "PASS" : "MISS");
  std::printf("  throughput error worst %5.1f %%   target <= 10 %%  %s\n", 100 * worst,
              worst <= 0.10 ? "PASS" : "MISS");
  std::printf("  recommendation right   %d of %zu   target all      %s\n", picks, results.size(),
              picks == static_cast<int>(results.size()) ? "PASS" : "MISS");
  std::printf("  Kendall tau-b, worst   %5.2f     target >= 0.9   %s\n", worst_tau, worst_tau >= 0.9 ? "PASS" : "MISS");
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (const int rc = parse(argc, argv, o); rc != 0) {
    return rc == 1 ? 0 : rc;
  }
  if (o.chains_on) {
    run_chain_section(o);
  }
  if (o.models_on) {
    (void)tb::run_model_section(o.models);
  }
  return 0;
}
