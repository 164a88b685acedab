#include "taskpipe/verdict/stream_verdict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>
#include <string>
#include <thread>

#include "taskpipe/error.hpp"
#include "taskpipe/verdict/core_round_trip.hpp"
#include "taskpipe/verdict/cpu_burn.hpp"

namespace taskpipe::verdict {
namespace {

std::size_t hardware_threads() { return std::max(1U, std::thread::hardware_concurrency()); }

void report_progress(const stream_options& o, const std::string& what, double done) {
  if (o.progress) {
    o.progress(what, done);
  }
}

void check(const stream_options& o) {
  if (o.max_workers > 256) {
    throw invalid_argument("stream_options.max_workers = " + std::to_string(o.max_workers) +
                           " is out of range; accepted: 0 (the hardware threads) to 256");
  }
  if (o.top < 1 || o.top > 64) {
    throw invalid_argument("stream_options.top = " + std::to_string(o.top) + " is out of range; accepted: 1 to 64");
  }
  if (o.repetitions < 1 || o.repetitions > 100) {
    throw invalid_argument("stream_options.repetitions = " + std::to_string(o.repetitions) +
                           " is out of range; accepted: 1 to 100");
  }
}

constexpr std::uint64_t empty_items = 20000;

/// The chain's shape with stages that do nothing, `empty_items` items, run with `o` on `workers` workers.
pipeline_stats run_empty_chain(const chain_profile& p, std::size_t workers, const pipeline_options& o) {
  const auto& stages = p.stages;
  executor ex{executor_options{.workers = workers}};
  std::uint64_t next = 0;
  auto chain = pipeline{ex, o}.source([&]() -> std::optional<std::uint64_t> {
    return next < empty_items ? std::optional<std::uint64_t>(next++) : std::nullopt;
  });
  for (std::size_t i = 1; i + 1 < stages.size(); ++i) {
    chain = std::move(chain).stage(stages[i].mode, [](std::uint64_t v) { return v; });
  }
  std::uint64_t sum = 0;
  return std::move(chain).sink(stages.back().mode, [&](std::uint64_t v) { sum += v; }).run();
}

/// What timing a stage adds to the time measured inside it: an empty chain's stage times on one worker, every item
/// timed (the clock read that falls inside each interval). The calibration subtracts it from every stage time.
std::vector<double> clock_inside_stage_ns(const chain_profile& p) {
  const auto st = run_empty_chain(p, 1, {.max_in_flight = 1, .strategy = execution_strategy::token, .time_one_in = 1});
  std::vector<double> out;
  for (const auto& s : st.stages) {
    out.push_back(s.items == 0 ? 0 : static_cast<double>(s.busy.count()) / static_cast<double>(s.items));
  }
  return out;
}

/// An empty chain with the same modes: what each strategy costs per item and stage (pinned: per segment of the
/// placement) when the stages do nothing. Pinned runs on `workers` threads placed by the real stages' costs, so the
/// empty chain has the real chain's segments.
double handoff_ns(execution_strategy s, const chain_profile& p, std::size_t workers, std::size_t cores) {
  const auto& stages = p.stages;
  const auto st = run_empty_chain(p, workers, stream_run_options(p, {s, workers, 16}));
  const bool pinned = s == execution_strategy::pinned;
  const std::size_t threads = pinned ? st.threads : workers;
  const std::size_t handoffs = pinned ? pinned_layout(p, workers).size() : stages.size();
  // CPU time of the run spread over every hand-off.
  const double busy = static_cast<double>(std::min(threads, cores));
  return static_cast<double>(st.elapsed.count()) * busy / static_cast<double>(empty_items * handoffs);
}

stream_measurement measure(const chain_factory& make, const chain_profile& profile, const stream_candidate& c,
                           std::size_t repetitions) {
  executor ex{executor_options{.workers = c.workers}};
  std::vector<pipeline_stats> runs;
  for (std::size_t r = 0; r < repetitions; ++r) {
    runs.push_back(make(ex, stream_run_options(profile, c)).run());
  }
  std::sort(runs.begin(), runs.end(),
            [](const pipeline_stats& a, const pipeline_stats& b) { return a.throughput() < b.throughput(); });
  const auto& mid = runs[runs.size() / 2];
  stream_measurement m;
  m.throughput = mid.throughput();
  m.spread = m.throughput > 0 ? (runs.back().throughput() - runs.front().throughput()) / m.throughput : 0;
  m.latency_p50_ns = static_cast<double>(mid.latency_p50.count());
  m.latency_p99_ns = static_cast<double>(mid.latency_p99.count());
  m.threads = mid.threads;
  m.placement = mid.placement;
  return m;
}

std::string rate(double x) {
  char buf[64];
  if (x >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2f M items/s", x / 1e6);
  } else if (x >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1f k items/s", x / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f items/s", x);
  }
  return buf;
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %%", x * 100);
  return buf;
}

std::string times(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", x);
  return buf;
}

std::string write_verdict(const stream_report& r) {
  const auto& best = r.rows[r.recommended];
  const auto& m = *best.measured;
  std::string v = "Use " + best.predicted.candidate.label() + ": " + rate(m.throughput) + ", " +
                  times(m.throughput / std::max(r.baseline_throughput, 1e-9)) + " the one-worker rate (predicted " +
                  rate(best.predicted.throughput) + ", " + percent(best.error().value_or(0)) + " off). ";
  v += "It is limited by " + best.predicted.bound_text(r.profile) + ". ";
  // The best measured row of every other strategy, for the comparison.
  for (const auto s : {execution_strategy::token, execution_strategy::pinned, execution_strategy::farm}) {
    if (s == best.predicted.candidate.strategy) {
      continue;
    }
    const stream_row* other = nullptr;
    for (const auto& row : r.rows) {
      if (row.measured && row.predicted.candidate.strategy == s &&
          (other == nullptr || row.measured->throughput > other->measured->throughput)) {
        other = &row;
      }
    }
    if (other != nullptr) {
      v += std::string(to_string(s)) + " at its best (" + other->predicted.candidate.label() + ") reaches " +
           percent(other->measured->throughput / m.throughput) + " of that";
      v += other->predicted.bound != best.predicted.bound
               ? ", limited by " + other->predicted.bound_text(r.profile) + ". "
               : ". ";
    } else if (s == execution_strategy::farm && !r.profile.farm_allowed()) {
      v += "farm does not apply: a middle stage is serial. ";
    }
  }
  if (r.tied) {
    v += "The lead over the runner-up is within the measured noise; among the candidates within 3 % of the fastest, "
         "the one with the least memory per worker is shown. ";
  }
  // What would change the answer: the bound, relaxed.
  switch (best.predicted.bound) {
    case stream_bound::serial_stage:
      v += "Only a faster " + best.predicted.bound_text(r.profile) +
           " (or splitting it into parallel work) would raise the rate; more workers will not.";
      break;
    case stream_bound::cores:
      v += "More cores would raise the rate; the chain has no serial bottleneck at this size.";
      break;
    case stream_bound::stage_threads:
      v += "More threads for those stages (a larger pinned budget, or a lighter stage beside them) would raise the "
           "rate.";
      break;
    case stream_bound::tokens:
      v += "More items in flight would raise the rate, at the cost of memory.";
      break;
  }
  return v;
}

}  // namespace

pipeline_options stream_run_options(const chain_profile& p, const stream_candidate& c) {
  pipeline_options o{.max_in_flight = c.max_in_flight, .strategy = c.strategy};
  if (c.strategy == execution_strategy::pinned) {
    o.pinned_threads = c.workers;
    o.stage_costs = pinned_costs(p);
  }
  return o;
}

stream_candidate contention_reference(execution_strategy s, std::size_t max_workers) { return {s, max_workers, 16}; }

bool is_contention_reference(const chain_profile& p, const stream_candidate& c, std::size_t max_workers) {
  const bool fitted = c.strategy == execution_strategy::token ||
                      (c.strategy == execution_strategy::pinned && p.pinned_reference_throughput > 0);
  const stream_candidate ref = contention_reference(c.strategy, max_workers);
  return fitted && c.workers == ref.workers && c.max_in_flight == ref.max_in_flight;
}

std::optional<double> stream_row::error() const {
  if (!measured || measured->throughput <= 0) {
    return std::nullopt;
  }
  return std::abs(predicted.throughput - measured->throughput) / measured->throughput;
}

namespace {

/// A reference run of the chain on every worker, 16 in flight, untimed: its rate goes to `rate`, and the contention
/// term `extra` (chain_profile::shared_handoff_extra_ns, pinned_handoff_extra_ns) is found by bisection so that the
/// model gives that rate. It may be negative, down to minus the empty chain's hand-off (`floor`), where hand-offs
/// under load overlap more than the empty chain's do.
void fit_contention(const chain_factory& make, chain_profile& p, execution_strategy s, std::size_t max_workers,
                    std::size_t cores, double chain_profile::*extra, double chain_profile::*rate) {
  const double floor = -p.handoff_ns[static_cast<std::size_t>(s)];
  const stream_candidate reference = contention_reference(s, max_workers);
  {
    executor many{executor_options{.workers = max_workers}};
    p.*rate = make(many, stream_run_options(p, reference)).run().throughput();
  }
  p.*extra = 0;
  if (p.*rate <= 0) {
    return;
  }
  double lo = floor;
  double hi = 1e9 / p.*rate;  // a whole item's time per hand-off is more than enough
  p.*extra = lo;
  if (predict(p, reference, cores).throughput <= p.*rate) {
    return;  // a bound the contention does not enter (the tokens') holds the model under the run's rate
  }
  for (int it = 0; it < 50; ++it) {
    p.*extra = (lo + hi) / 2;
    (predict(p, reference, cores).throughput > p.*rate ? lo : hi) = p.*extra;
  }
  p.*extra = (lo + hi) / 2;
}

chain_profile calibrate_once(const chain_factory& make, const stream_options& o, double* baseline_throughput) {
  const std::size_t cores = hardware_threads();
  const std::size_t max_workers = o.max_workers == 0 ? cores : o.max_workers;
  // Three short runs on one worker, one item at a time, every item timed; per stage the median of the three means,
  // so a single preemption on a shared machine does not decide the profile.
  constexpr int runs = 3;
  std::vector<pipeline_stats> stats;
  std::size_t slot_bytes = 0;
  {
    executor one{executor_options{.workers = 1}};
    for (int r = 0; r < runs; ++r) {
      auto chain = make(one, {.max_in_flight = 1, .strategy = execution_strategy::token, .time_one_in = 1});
      slot_bytes = chain.slot_bytes();
      stats.push_back(chain.run());
      if (stats.back().items == 0) {
        throw invalid_argument("verdict: the chain's source produced no items; calibration needs a sample input");
      }
    }
  }
  std::sort(stats.begin(), stats.end(),
            [](const pipeline_stats& a, const pipeline_stats& b) { return a.elapsed < b.elapsed; });
  if (baseline_throughput != nullptr) {
    *baseline_throughput = stats[runs / 2].throughput();
  }
  chain_profile p;
  for (std::size_t i = 0; i < stats[0].stages.size(); ++i) {
    std::vector<std::pair<double, double>> means;  // mean, spread
    for (const auto& st : stats) {
      const auto& s = st.stages[i];
      const double mean = s.items == 0 ? 0 : static_cast<double>(s.busy.count()) / static_cast<double>(s.items);
      // The spread from the percentiles, (p99 - p50) / 2.33 as a standard deviation: a preempted call moves the
      // variance by orders of magnitude on a shared machine, the 99th percentile hardly at all.
      const double sigma = static_cast<double>((s.busy_p99 - s.busy_p50).count()) / 2.33;
      means.emplace_back(mean, mean > 0 ? std::max(0.0, sigma) / mean : 0.0);
    }
    std::sort(means.begin(), means.end());
    stage_profile sp;
    sp.name = stats[0].stages[i].name;
    sp.mode = stats[0].stages[i].mode;
    sp.mean_ns = means[runs / 2].first;
    sp.spread = means[runs / 2].second;
    sp.state_bytes = i < o.state_bytes.size() ? o.state_bytes[i] : 0;
    sp.item_bytes = i < o.item_bytes.size() ? o.item_bytes[i] : slot_bytes;
    p.stages.push_back(sp);
  }
  // The same chain on max_workers workers under token (16 in flight, every item timed), three runs: per stage the
  // median of the three means is what the stage costs when items and state move between cores.
  if (std::min(max_workers, cores) > 1) {
    std::vector<pipeline_stats> shared;
    shared.reserve(runs);
    executor many{executor_options{.workers = max_workers}};
    for (int r = 0; r < runs; ++r) {
      shared.push_back(
          make(many, {.max_in_flight = 16, .strategy = execution_strategy::token, .time_one_in = 1}).run());
    }
    for (std::size_t i = 0; i < p.stages.size(); ++i) {
      std::vector<double> means;
      means.reserve(shared.size());
      for (const auto& st : shared) {
        const auto& s = st.stages.at(i);
        means.push_back(s.items == 0 ? 0 : static_cast<double>(s.busy.count()) / static_cast<double>(s.items));
      }
      std::sort(means.begin(), means.end());
      p.stages[i].shared_mean_ns = means[runs / 2];
    }
  }
  // The clock's own share of each stage time, taken off.
  const auto clock_ns = clock_inside_stage_ns(p);
  for (std::size_t i = 0; i < p.stages.size() && i < clock_ns.size(); ++i) {
    p.stages[i].mean_ns = std::max(0.0, p.stages[i].mean_ns - clock_ns[i]);
    if (p.stages[i].shared_mean_ns > 0) {
      p.stages[i].shared_mean_ns = std::max(0.0, p.stages[i].shared_mean_ns - clock_ns[i]);
    }
  }
  // The stage times above already carry today's load for one thread; what more threads add is the ratio of W busy
  // threads' capacity to one thread's, measured back to back.
  const double one = effective_cores(1);
  const double many = effective_cores(std::min(max_workers, cores));
  p.effective_cores = std::clamp(many / std::max(one, 1e-3), 1.0, static_cast<double>(std::min(max_workers, cores)));
  for (const auto s : {execution_strategy::token, execution_strategy::pinned, execution_strategy::farm}) {
    if (s != execution_strategy::farm || p.farm_allowed()) {
      p.handoff_ns[static_cast<std::size_t>(s)] = handoff_ns(s, p, max_workers, cores);
      if (s != execution_strategy::pinned) {
        p.handoff_one_worker_ns[static_cast<std::size_t>(s)] =
            max_workers > 1 ? handoff_ns(s, p, 1, cores) : p.handoff_ns[static_cast<std::size_t>(s)];
      }
    }
  }
  const std::size_t pinned = static_cast<std::size_t>(execution_strategy::pinned);
  p.pinned_solo_handoff_ns =
      max_workers > 1 ? handoff_ns(execution_strategy::pinned, p, 1, cores) : p.handoff_ns[pinned];
  if (std::min(max_workers, cores) > 1) {
    fit_contention(make, p, execution_strategy::token, max_workers, cores, &chain_profile::shared_handoff_extra_ns,
                   &chain_profile::shared_reference_throughput);
    if (pinned_layout(p, max_workers).size() > 1) {
      fit_contention(make, p, execution_strategy::pinned, max_workers, cores, &chain_profile::pinned_handoff_extra_ns,
                     &chain_profile::pinned_reference_throughput);
    }
  }
  return p;
}

// The calibration of `r` taken on the machine as it is now (core-to-core round trip `now_ns`): an existing one in the
// same regime, else a new one while there are fewer than `max_calibrations`, else the nearest. A new calibration is
// recorded with the probe that asked for it and the candidate about to be measured.
constexpr std::size_t max_calibrations = 3;

std::size_t calibration_for(stream_report& r, double now_ns, const chain_factory& make, const stream_options& o,
                            const std::string& before, double done) {
  std::size_t nearest = 0;
  for (std::size_t k = 0; k < r.calibrations.size(); ++k) {
    const double rt = r.calibrations[k].profile.core_round_trip_ns;
    if (!core_latency_changed(rt, now_ns)) {
      return k;
    }
    const auto distance = [now_ns](double x) { return std::abs(std::log(std::max(x, 1.0) / std::max(now_ns, 1.0))); };
    if (distance(rt) < distance(r.calibrations[nearest].profile.core_round_trip_ns)) {
      nearest = k;
    }
  }
  if (r.calibrations.size() >= max_calibrations) {
    return nearest;
  }
  char what[160];
  std::snprintf(what, sizeof what, "the machine changed (core-to-core round trip %.0f -> %.0f ns): calibrating again",
                r.calibrations.back().profile.core_round_trip_ns, now_ns);
  report_progress(o, what, done);
  r.calibrations.push_back({calibrate(make, o), now_ns, before});
  return r.calibrations.size() - 1;
}

}  // namespace

chain_profile calibrate(const chain_factory& make, const stream_options& o, double* baseline_throughput) {
  check(o);
  chain_profile p;
  // Repeated, at most twice, when the machine changes under it: every figure of a profile comes from one machine.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const double before = core_round_trip_ns();
    p = calibrate_once(make, o, baseline_throughput);
    p.core_round_trip_ns = core_round_trip_ns();
    if (!core_latency_changed(before, p.core_round_trip_ns)) {
      break;
    }
  }
  return p;
}

stream_report compare(const chain_factory& make, const stream_options& o) {
  check(o);
  stream_report r;
  r.cores = hardware_threads();
  const std::size_t max_workers = o.max_workers == 0 ? r.cores : o.max_workers;
  report_progress(o, "calibrating", 0);
  r.profile = calibrate(make, o, &r.baseline_throughput);
  r.calibrations.push_back({r.profile});
  for (const auto& c : stream_candidates(r.profile, max_workers)) {
    r.rows.push_back({predict(r.profile, c, r.cores), std::nullopt});
  }
  // Best predicted first; among equals, fewer workers, then fewer tokens (less memory).
  const auto ahead = [](const stream_row& a, const stream_row& b) {
    if (std::abs(a.predicted.throughput - b.predicted.throughput) > 1e-9 * b.predicted.throughput) {
      return a.predicted.throughput > b.predicted.throughput;
    }
    if (a.predicted.candidate.workers != b.predicted.candidate.workers) {
      return a.predicted.candidate.workers < b.predicted.candidate.workers;
    }
    return a.predicted.candidate.max_in_flight < b.predicted.candidate.max_in_flight;
  };
  std::stable_sort(r.rows.begin(), r.rows.end(), ahead);
  // The best-predicted candidate of each strategy first, so the verdict weighs strategies against each other, then
  // the rest by prediction.
  std::vector<std::size_t> chosen;
  std::set<execution_strategy> seen;
  for (std::size_t i = 0; i < r.rows.size() && chosen.size() < o.top; ++i) {
    if (seen.insert(r.rows[i].predicted.candidate.strategy).second) {
      chosen.push_back(i);
    }
  }
  for (std::size_t i = 0; i < r.rows.size() && chosen.size() < o.top; ++i) {
    if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) {
      chosen.push_back(i);
    }
  }
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    auto& row = r.rows[chosen[k]];
    const double done = static_cast<double>(k) / static_cast<double>(chosen.size());
    report_progress(o, "measuring " + row.predicted.candidate.label(), done);
    // Measured on the machine as it is now, and predicted from the calibration taken on the same machine; again
    // (at most twice) when the machine changes during the runs.
    const stream_candidate c = row.predicted.candidate;
    for (int attempt = 0; attempt < 3; ++attempt) {
      const double before = core_round_trip_ns();
      row.calibration = calibration_for(r, before, make, o, c.label(), done);
      const auto& profile = r.calibrations[row.calibration].profile;
      row.predicted = predict(profile, c, r.cores);
      stream_measurement m = measure(make, profile, c, o.repetitions);
      m.core_round_trip_before_ns = before;
      m.core_round_trip_after_ns = core_round_trip_ns();
      row.measured = std::move(m);
      if (!core_latency_changed(before, row.measured->core_round_trip_after_ns)) {
        break;
      }
    }
  }
  report_progress(o, "done", 1);
  if (r.calibrations.size() > 1) {  // some predicted again on the way: ranked again, the measured ones followed
    std::vector<std::size_t> order(r.rows.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return ahead(r.rows[a], r.rows[b]); });
    std::vector<std::size_t> moved_to(order.size());
    std::vector<stream_row> ranked;
    ranked.reserve(order.size());
    for (const auto i : order) {
      moved_to[i] = ranked.size();
      ranked.push_back(std::move(r.rows[i]));
    }
    r.rows = std::move(ranked);
    for (auto& i : chosen) {
      i = moved_to[i];
    }
  }
  // The measured best. A runner-up within max(3 %, twice the spread) makes the lead noise (`tied`); among the
  // candidates within 3 % of the best, the one with the least memory per worker is recommended, so a pick is never
  // more than 3 % slower than the measured best.
  std::size_t fastest = chosen.front();
  for (const auto i : chosen) {
    if (r.rows[i].measured->throughput > r.rows[fastest].measured->throughput) {
      fastest = i;
    }
  }
  const auto& fm = *r.rows[fastest].measured;
  std::size_t best = fastest;
  for (const auto i : chosen) {
    if (i == fastest) {
      continue;
    }
    const auto& m = *r.rows[i].measured;
    if (m.throughput >= fm.throughput * (1 - std::max(0.03, 2 * std::max(fm.spread, m.spread)))) {
      r.tied = true;
    }
    if (m.throughput >= fm.throughput * 0.97 &&
        r.rows[i].predicted.memory_per_worker < r.rows[best].predicted.memory_per_worker) {
      best = i;
    }
  }
  r.recommended = best;
  r.verdict = write_verdict(r);
  return r;
}

}  // namespace taskpipe::verdict
