#include "verdict_models.hpp"

#include <taskpipe/pp/generators.hpp>
#include <taskpipe/trace/timeline.hpp>
#include <taskpipe/verdict/builtin_model.hpp>
#include <taskpipe/verdict/model_verdict.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/seeded_random.hpp"
#include "common/verdict_ranking.hpp"

namespace taskpipe::bench {
namespace {

namespace v = taskpipe::verdict;

// What one measured candidate says about the prediction.
struct sample {
  double error = 0;           // |pred - meas| / meas step time
  double bias = 0;            // pred / meas - 1: > 0 predicted slower than measured
  double shape_error = 0;     // the error after scaling the model's predictions by its median meas / pred
  double compute_bias = 0;    // pred / meas - 1 of the step less its optimizer phases (clip + AdamW)
  double optimizer_bias = 0;  // pred / meas - 1 of the tail against the measured clip + AdamW phases
  double mem_error = 0;       // |pred - meas| / meas peak bytes per worker
  double mem_bias = 0;        // pred / meas - 1
};

struct model_result {
  std::vector<sample> samples;
  double tau = 1;
  double machine_ratio = 1;  // median measured / predicted step time
  pick_judgment verdict_pick;
  pick_judgment predicted_pick;
  bool has_pick = false;
  bool within_limit = true;  // the recommended candidate's measured peak is under the limit
};

// Errors per candidate kind, in the order the kinds first appear.
struct kind_table {
  std::vector<std::pair<std::string, std::vector<sample>>> kinds;

  void add(const std::string& kind, const sample& s) {
    auto it = std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == kind; });
    if (it == kinds.end()) {
      kinds.emplace_back(kind, std::vector<sample>{});
      it = kinds.end() - 1;
    }
    it->second.push_back(s);
  }
};

double mean_of(const std::vector<sample>& v, double sample::*f) {
  double s = 0;
  for (const sample& x : v) s += x.*f;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double worst_of(const std::vector<sample>& v, double sample::*f) {
  double w = 0;
  for (const sample& x : v) w = std::max(w, x.*f);
  return w;
}

std::string kind_of(const v::model_candidate& c) {
  switch (c.kind) {
    case train::strategy::task:
      return c.threads > 1 ? "task" : "baseline (1 thread)";
    case train::strategy::data:
      return "dp";
    case train::strategy::pipeline:
      return "pp " + std::string(pp::kind_name(c.schedule));
    case train::strategy::hybrid:
      return "hybrid " + std::string(pp::kind_name(c.schedule));
  }
  return "?";
}

double mib(double bytes) { return bytes / (1 << 20); }

// The median over the timed steps (the warm-up, the first step, left out) of the trainer's track-0 phases named
// `a` and `b` together, in seconds.
double phase_seconds(const trace::timeline& t, const char* a, const char* b) {
  std::vector<std::pair<long long, double>> per_step;  // step -> seconds
  for (const trace::event& e : t.events) {
    if (e.track != 0 || (e.name != a && e.name != b) || e.args.empty()) continue;
    const long long step = e.args.front().second;
    auto it = std::find_if(per_step.begin(), per_step.end(), [&](const auto& x) { return x.first == step; });
    if (it == per_step.end()) {
      per_step.emplace_back(step, 0.0);
      it = per_step.end() - 1;
    }
    it->second += e.duration * t.microseconds_per_unit * 1e-6;
  }
  std::sort(per_step.begin(), per_step.end());
  if (per_step.size() > 1) per_step.erase(per_step.begin());
  std::vector<double> s;
  for (const auto& x : per_step) s.push_back(x.second);
  if (s.empty()) return 0;
  std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(s.size() / 2), s.end());
  return s[s.size() / 2];
}

sample sample_of(const v::model_row& row) {
  const v::model_measurement& m = *row.measured;
  const v::model_prediction& p = row.predicted;
  const double optimizer = phase_seconds(row.measured_timeline, "clip", "adamw");
  const double compute = std::max(1e-9, m.step_seconds - optimizer);
  return {.error = *row.error(),
          .bias = p.step_seconds / m.step_seconds - 1,
          .compute_bias = p.compute_seconds / compute - 1,
          .optimizer_bias = optimizer > 0 ? p.tail_seconds / optimizer - 1 : 0,
          .mem_error = std::abs(p.memory_per_worker - m.peak_bytes) / m.peak_bytes,
          .mem_bias = p.memory_per_worker / m.peak_bytes - 1};
}

void print_row(const v::model_row& row, bool picked) {
  const v::model_measurement& m = *row.measured;
  const v::model_prediction& p = row.predicted;
  std::printf(
      "    %-34s pred %8.2f ms (compute %8.2f + tail %6.2f)  meas %8.2f ms +-%3.0f %%  err %+6.1f %%  "
      "mem pred %7.2f meas %7.2f MiB (%+5.1f %%)%s\n",
      p.candidate.label().c_str(), 1e3 * p.step_seconds, 1e3 * p.compute_seconds, 1e3 * p.tail_seconds,
      1e3 * m.step_seconds, 100 * m.spread, 100 * (p.step_seconds / m.step_seconds - 1), mib(p.memory_per_worker),
      mib(m.peak_bytes), 100 * (p.memory_per_worker / m.peak_bytes - 1), picked ? "  <- pick" : "");
}

model_result judge(const v::model_report& r, kind_table& kinds, bool verbose) {
  model_result res;
  // Every measured row: the baseline and the fitting candidates (compare_model measured all of them).
  std::vector<const v::model_row*> measured{&r.baseline};
  for (const v::model_row& row : r.rows) {
    if (row.measured) measured.push_back(&row);
  }
  // How much slower the machine ran than the profile said, for this model: the median measured / predicted.
  std::vector<double> ratios;
  for (const v::model_row* row : measured) {
    ratios.push_back(row->measured->step_seconds / row->predicted.step_seconds);
  }
  std::nth_element(ratios.begin(), ratios.begin() + static_cast<std::ptrdiff_t>(ratios.size() / 2), ratios.end());
  res.machine_ratio = ratios[ratios.size() / 2];
  for (const v::model_row* row : measured) {
    sample s = sample_of(*row);
    s.shape_error = std::abs(row->predicted.step_seconds * res.machine_ratio - row->measured->step_seconds) /
                    row->measured->step_seconds;
    res.samples.push_back(s);
    kinds.add(kind_of(row->predicted.candidate), s);
    if (verbose) print_row(*row, row == r.pick());
  }
  // The pool the verdict picks from: the fitting measured rows (the baseline when it fits).
  std::vector<double> pred, meas, spreads;
  std::optional<std::size_t> picked;
  std::size_t predicted_best = 0;
  for (const v::model_row* row : measured) {
    if (!row->predicted.fits) continue;
    if (row == r.pick()) picked = meas.size();
    if (!pred.empty() && row->predicted.throughput() > pred[predicted_best]) predicted_best = pred.size();
    pred.push_back(row->predicted.throughput());
    meas.push_back(row->measured->throughput());
    spreads.push_back(row->measured->spread);
  }
  res.tau = kendall_tau_b(pred, meas);
  res.has_pick = picked.has_value();
  if (picked) {
    res.verdict_pick = judge_pick(meas, spreads, *picked);
    res.predicted_pick = judge_pick(meas, spreads, predicted_best);
    const double limit = r.workload.memory_per_worker;
    res.within_limit = limit <= 0 || r.pick()->measured->peak_bytes <= limit;
  }
  return res;
}

// A seeded random configuration: 2 or 4 workers (4 brings hybrid), 1 to 6 blocks, width 32 to 128, M up to 8P where
// the batch allows, and a memory limit of 0.5 to 1.5 x the whole model's parameters, gradients and AdamW state in
// two of three (none in the rest).
v::model_workload random_model(std::uint64_t seed) {
  taskpipe::bench::seeded_random random(seed, 11);
  auto next = [&random] { return random.next(); };
  v::model_workload w;
  w.seed = seed;
  w.workers = next() % 3 == 0 ? 4 : 2;
  const int heads_of[] = {1, 2, 4};
  const int seq_of[] = {8, 16, 32};
  w.config.heads = heads_of[next() % 3];
  w.config.embd = 32 * static_cast<int>(1 + next() % 4);
  w.config.layers = w.workers == 4 ? static_cast<int>(2 + next() % 5) : static_cast<int>(1 + next() % 4);
  w.seq = seq_of[next() % 3];
  w.config.context = w.seq;
  w.config.vocab = 256;
  // Batch W x {2, 4, 8} rows, at most 512 tokens.
  const int factors[] = {2, 4, 8};
  w.batch = w.workers * factors[next() % 3];
  while (w.batch * w.seq > 512 && w.batch > w.workers) w.batch /= 2;
  if (next() % 3 != 0) {
    const double state = 4.0 * static_cast<double>(w.config.parameter_count() * sizeof(float));
    w.memory_per_worker = state * (0.5 + static_cast<double>(next() % 1000) / 1000.0);
  }
  w.name = "random-" + std::to_string(seed);
  return w;
}

std::string describe(const v::model_workload& w) {
  char limit[32] = "no limit";
  if (w.memory_per_worker > 0) std::snprintf(limit, sizeof limit, "%.2f MiB", mib(w.memory_per_worker));
  char buf[160];
  std::snprintf(buf, sizeof buf, "L%d d%d h%d, %dx%d, W%d, %s", w.config.layers, w.config.embd, w.config.heads, w.batch,
                w.seq, w.workers, limit);
  return buf;
}

const char* verdict_of(bool ok) { return ok ? "PASS" : "MISS"; }

}  // namespace

int run_model_section(const model_section_options& o) {
  std::vector<v::model_workload> workloads = v::builtin_model_runs();
  for (int k = 0; k < o.models; ++k) {
    workloads.push_back(random_model(o.seed + static_cast<std::uint64_t>(k)));
  }
  std::printf(
      "\nmodels: every fitting candidate measured, at least %d timed steps each (more until they add up to 0.2 s) "
      "after a warm-up\n",
      o.steps);
  kind_table kinds;
  std::vector<model_result> results;
  std::optional<v::model_profile> builtin_profile;
  for (const v::model_workload& w : workloads) {
    const bool builtin = w.name.rfind("model-", 0) == 0;
    // Measure every candidate that fits: top is the number of candidates (compare_model accepts up to 64).
    const int top = std::clamp(static_cast<int>(v::model_candidates(w).size()), 1, 64);
    const v::model_report r =
        v::compare_model(w, {.top = top, .steps = o.steps}, builtin && builtin_profile ? &*builtin_profile : nullptr);
    if (builtin) builtin_profile = r.profile;
    if (o.verbose) {
      std::printf("  %s (%s):\n", w.name.c_str(), describe(w).c_str());
      const v::model_profile& p = r.profile;
      std::printf(
          "    profile: slowdown with %d workers x%.2f (co-run x%.2f on %d hardware threads, %.2f cores free), "
          "intra-op "
          "x%.2f, handoff %.1f us, thread start %.1f us\n",
          w.workers, p.slowdown(w.workers), p.corun_slowdown, p.hardware_threads, p.effective_cores, p.intra_op_speedup,
          1e6 * p.transport_seconds_per_message, 1e6 * p.thread_start_seconds);
    }
    const model_result m = judge(r, kinds, o.verbose);
    std::printf(
        "%-12s %-34s cands %2zu/%2zu  step err mean %5.1f %% worst %5.1f %% (meas/pred x%.2f; after it %4.1f %% "
        "%5.1f %%)  mem err worst %5.1f %%  tau %5.2f  pick %s pred-pick %s%s\n",
        w.name.c_str(), describe(w).c_str(), m.samples.size() - 1, r.rows.size(),
        100 * mean_of(m.samples, &sample::error), 100 * worst_of(m.samples, &sample::error), m.machine_ratio,
        100 * mean_of(m.samples, &sample::shape_error), 100 * worst_of(m.samples, &sample::shape_error),
        100 * worst_of(m.samples, &sample::mem_error), m.tau,
        m.has_pick ? (m.verdict_pick.ok ? "ok  " : "MISS") : "none",
        m.has_pick ? (m.predicted_pick.ok ? "ok  " : "MISS") : "none", m.within_limit ? "" : "  OVER LIMIT");
    std::fflush(stdout);
    results.push_back(m);
  }

  std::printf(
      "\nper candidate kind (bias: mean of predicted / measured - 1, > 0 predicted too slow or too big; after "
      "ratio: the error once each model's predictions are scaled by its median measured / predicted; compute "
      "and optimizer: the step less the trainer's clip + AdamW phases, and those phases, against the "
      "prediction's compute and serial tail; the dp and hybrid gradient sum is timed inside the step's "
      "forward_backward phase):\n");
  std::printf("  %-20s %4s  %-25s  %-15s  %-17s  %-25s\n", "kind", "n", "step err mean worst bias", "after ratio",
              "compute / optim.", "memory err mean worst bias");
  for (const auto& [kind, s] : kinds.kinds) {
    std::printf(
        "  %-20s %4zu  %6.1f%% %6.1f%% %+6.1f%%  %6.1f%% %6.1f%%  %+7.1f%% %+7.1f%%  %6.1f%% %6.1f%% %+6.1f%%\n",
        kind.c_str(), s.size(), 100 * mean_of(s, &sample::error), 100 * worst_of(s, &sample::error),
        100 * mean_of(s, &sample::bias), 100 * mean_of(s, &sample::shape_error),
        100 * worst_of(s, &sample::shape_error), 100 * mean_of(s, &sample::compute_bias),
        100 * mean_of(s, &sample::optimizer_bias), 100 * mean_of(s, &sample::mem_error),
        100 * worst_of(s, &sample::mem_error), 100 * mean_of(s, &sample::mem_bias));
  }

  std::vector<sample> all;
  int picks = 0, predicted_picks = 0, with_pick = 0, within = 0;
  double worst_tau = 1;
  for (const model_result& m : results) {
    all.insert(all.end(), m.samples.begin(), m.samples.end());
    worst_tau = std::min(worst_tau, m.tau);
    with_pick += m.has_pick ? 1 : 0;
    picks += m.has_pick && m.verdict_pick.ok ? 1 : 0;
    predicted_picks += m.has_pick && m.predicted_pick.ok ? 1 : 0;
    within += m.within_limit ? 1 : 0;
  }
  const double mean = mean_of(all, &sample::error);
  const double shape_mean = mean_of(all, &sample::shape_error);
  const double shape_worst = worst_of(all, &sample::shape_error);
  const double worst = worst_of(all, &sample::error);
  const double mem_mean = mean_of(all, &sample::mem_error);
  const double mem_worst = worst_of(all, &sample::mem_error);
  const int n = static_cast<int>(results.size());
  const bool checks[] = {mean <= 0.05,    worst <= 0.10,      mem_worst <= 0.05,
                         within == n,     picks == with_pick, predicted_picks == with_pick,
                         worst_tau >= 0.9};
  std::printf("\nmodel summary over %d models, %zu measured candidates (baselines included):\n", n, all.size());
  std::printf("  step time error mean       %5.1f %%   target <= 5 %%   %s\n", 100 * mean, verdict_of(checks[0]));
  std::printf("  step time error worst      %5.1f %%   target <= 10 %%  %s\n", 100 * worst, verdict_of(checks[1]));
  std::printf(
      "  after each model's median meas/pred ratio: mean %.1f %%, worst %.1f %% (a diagnostic: what load "
      "that slows every candidate alike does not explain)\n",
      100 * shape_mean, 100 * shape_worst);
  std::printf("  peak memory error worst    %5.1f %%   target <= 5 %%   %s   (mean %.1f %%)\n", 100 * mem_worst,
              verdict_of(checks[2]), 100 * mem_mean);
  std::printf("  pick within the limit      %d of %d   target all      %s\n", within, n, verdict_of(checks[3]));
  std::printf("  recommendation right       %d of %d   target all      %s   (every fitting candidate measured)\n",
              picks, with_pick, verdict_of(checks[4]));
  std::printf("  predicted first choice     %d of %d   target all      %s   (what the prediction alone would pick)\n",
              predicted_picks, with_pick, verdict_of(checks[5]));
  std::printf("  Kendall tau-b, worst       %5.2f     target >= 0.9   %s\n", worst_tau, verdict_of(checks[6]));
  return static_cast<int>(std::count(std::begin(checks), std::end(checks), false));
}

}  // namespace taskpipe::bench
