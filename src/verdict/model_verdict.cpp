#include "taskpipe/verdict/model_verdict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "taskpipe/error.hpp"

namespace taskpipe::verdict {
namespace {

std::string fmt_ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", s * 1e3);
  return buf;
}

std::string fmt_mib(double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1 << 20));
  return buf;
}

std::string fmt_pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %%", x * 100);
  return buf;
}

std::string fmt_x(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", x);
  return buf;
}

void check(const model_options& o) {
  if (o.top < 1 || o.top > 64) {
    throw invalid_argument("model_options.top = " + std::to_string(o.top) + " is out of range; accepted: 1 to 64");
  }
  if (o.steps < 1 || o.steps > 100) {
    throw invalid_argument("model_options.steps = " + std::to_string(o.steps) + " is out of range; accepted: 1 to 100");
  }
}

// The step time a row is judged by: measured when it was, else predicted.
double step_of(const model_row& r) { return r.measured ? r.measured->step_seconds : r.predicted.step_seconds; }

// The rows to measure: the best-predicted fitting row of each strategy, then the rest by prediction.
std::vector<std::size_t> choose(const std::vector<model_row>& rows, int top) {
  std::vector<std::size_t> chosen;
  std::set<train::strategy> seen;
  const auto want = static_cast<std::size_t>(top);
  for (std::size_t i = 0; i < rows.size() && chosen.size() < want; ++i) {
    if (rows[i].predicted.fits && seen.insert(rows[i].predicted.candidate.kind).second) {
      chosen.push_back(i);
    }
  }
  for (std::size_t i = 0; i < rows.size() && chosen.size() < want; ++i) {
    if (rows[i].predicted.fits && std::find(chosen.begin(), chosen.end(), i) == chosen.end()) {
      chosen.push_back(i);
    }
  }
  return chosen;
}

void recommend(model_report& r, const std::vector<std::size_t>& measured) {
  // Candidates: the measured fitting rows, and the baseline when it fits (index rows.size() stands for it).
  std::vector<std::size_t> pool = measured;
  const std::size_t base = r.rows.size();
  if (r.baseline.predicted.fits) {
    pool.push_back(base);
  }
  if (pool.empty()) {
    return;
  }
  const auto row = [&](std::size_t i) -> const model_row& { return i == base ? r.baseline : r.rows[i]; };
  std::size_t fastest = pool.front();
  for (const std::size_t i : pool) {
    if (row(i).measured->step_seconds < row(fastest).measured->step_seconds) {
      fastest = i;
    }
  }
  const model_measurement& fm = *row(fastest).measured;
  std::size_t best = fastest;
  std::optional<std::size_t> runner_up;
  for (const std::size_t i : pool) {
    if (i == fastest) {
      continue;
    }
    const model_measurement& m = *row(i).measured;
    if (!runner_up || m.step_seconds < row(*runner_up).measured->step_seconds) {
      runner_up = i;
    }
    if (m.step_seconds * 0.97 <= fm.step_seconds &&
        row(i).predicted.memory_per_worker < row(best).predicted.memory_per_worker) {
      best = i;
    }
  }
  if (runner_up) {
    const model_measurement& m = *row(*runner_up).measured;
    r.tied = m.step_seconds * (1 - std::max(0.03, 2 * std::max(fm.spread, m.spread))) <= fm.step_seconds;
  }
  if (best == base) {
    r.baseline_recommended = true;
  } else {
    r.recommended = best;
  }
}

std::string nothing_fits(const model_report& r) {
  const model_row* smallest = &r.baseline;
  for (const model_row& row : r.rows) {
    if (row.predicted.memory_per_worker < smallest->predicted.memory_per_worker) {
      smallest = &row;
    }
  }
  return "Nothing fits in " + fmt_mib(r.workload.memory_per_worker) + " per worker: the smallest candidate, " +
         smallest->predicted.candidate.label() + ", needs " + fmt_mib(smallest->predicted.memory_per_worker) +
         ". Allow at least that (--memory-per-worker), or more workers, so a deeper pipeline holds fewer layers each.";
}

std::string write_verdict(const model_report& r) {
  const model_row* pick = r.pick();
  if (pick == nullptr) {
    return nothing_fits(r);
  }
  const model_measurement& m = *pick->measured;
  const model_prediction& p = pick->predicted;
  const double base = r.baseline.measured->step_seconds;
  const std::string predicted =
      "predicted " + fmt_ms(p.step_seconds) + ", " + fmt_pct(pick->error().value_or(0)) + " off";
  std::string v;
  if (pick == &r.baseline) {
    v = "Use one worker (" + p.candidate.label() + "): " + fmt_ms(m.step_seconds) + " per step (" + predicted + "), " +
        fmt_mib(p.memory_per_worker) + " per worker predicted; no parallel layout measured faster. ";
  } else {
    v = "Use " + p.candidate.label() + ": " + fmt_ms(m.step_seconds) + " per step, " +
        fmt_x(base / std::max(m.step_seconds, 1e-12)) + " the one-worker rate (" + fmt_ms(base) + " per step; " +
        predicted + "), " + fmt_mib(p.memory_per_worker) + " per worker predicted. It is limited by " + p.bound + ". ";
  }
  if (pick != &r.baseline && !r.baseline.predicted.fits && base < m.step_seconds) {
    v += "One worker measured faster (" + fmt_ms(base) + " per step) but holds the whole model: it " +
         r.baseline.predicted.reason + ". ";
  }
  // The best row of every other strategy: measured if it was, and why it lost (or does not fit).
  for (const train::strategy s :
       {train::strategy::task, train::strategy::data, train::strategy::pipeline, train::strategy::hybrid}) {
    if (s == p.candidate.kind && pick != &r.baseline) {
      continue;
    }
    // Its best: one that fits before one that does not, a measured one before a predicted one, then the fastest.
    const auto rank = [](const model_row& row) { return (row.predicted.fits ? 0 : 2) + (row.measured ? 0 : 1); };
    const model_row* other = nullptr;
    for (const model_row& row : r.rows) {
      if (row.predicted.candidate.kind == s && &row != pick &&
          (other == nullptr || rank(row) < rank(*other) ||
           (rank(row) == rank(*other) && step_of(row) < step_of(*other)))) {
        other = &row;
      }
    }
    if (other == nullptr) {
      continue;
    }
    const std::string label = other->predicted.candidate.label();
    if (!other->predicted.fits) {
      v += label + " does not fit: it " + other->predicted.reason + ". ";
    } else if (other->measured) {
      v += label + " reaches " + fmt_pct(m.step_seconds / other->measured->step_seconds) + " of that rate (" +
           fmt_ms(other->measured->step_seconds) + "), limited by " + other->predicted.bound + ". ";
    } else {
      v += label + " is predicted at " + fmt_pct(p.step_seconds / other->predicted.step_seconds) +
           " of the pick's predicted rate (not measured). ";
    }
  }
  if (r.tied) {
    v += "The lead over the runner-up is within the measured noise; among the candidates within 3 % of the fastest, "
         "the one with the least memory per worker is shown. ";
  }
  // What would change the answer: memory first (a faster layout that does not fit), then a smaller limit.
  const model_row* faster = nullptr;
  for (const model_row& row : r.rows) {
    if (!row.predicted.fits && row.predicted.step_seconds < p.step_seconds &&
        (faster == nullptr || row.predicted.step_seconds < faster->predicted.step_seconds)) {
      faster = &row;
    }
  }
  if (faster != nullptr) {
    v += "With " + fmt_mib(faster->predicted.memory_per_worker) + " per worker " + faster->predicted.candidate.label() +
         " would fit and is predicted " + fmt_x(p.step_seconds / faster->predicted.step_seconds) + " as fast.";
    return v;
  }
  const model_row* smaller = nullptr;
  for (const model_row& row : r.rows) {
    if (row.predicted.fits && row.predicted.memory_per_worker < p.memory_per_worker &&
        (smaller == nullptr || row.predicted.step_seconds < smaller->predicted.step_seconds)) {
      smaller = &row;
    }
  }
  if (smaller != nullptr) {
    v += "Under a limit below " + fmt_mib(p.memory_per_worker) + " per worker it would not fit; " +
         smaller->predicted.candidate.label() + " needs " + fmt_mib(smaller->predicted.memory_per_worker) +
         " and is predicted at " + fmt_pct(p.step_seconds / smaller->predicted.step_seconds) + " of its rate.";
  } else {
    v += "No other layout needs less memory per worker; only more workers would change the answer.";
  }
  return v;
}

}  // namespace

std::optional<double> model_row::error() const {
  if (!measured || measured->step_seconds <= 0) {
    return std::nullopt;
  }
  return std::abs(predicted.step_seconds - measured->step_seconds) / measured->step_seconds;
}

const model_row* model_report::pick() const noexcept {
  if (baseline_recommended) {
    return &baseline;
  }
  return recommended ? &rows[*recommended] : nullptr;
}

model_report compare_model(const model_workload& w, const model_options& o, const model_profile* profile) {
  w.validate();
  check(o);
  const auto say = [&](const std::string& what, double done) {
    if (o.progress) {
      o.progress(what, done);
    }
  };
  model_report r;
  r.workload = w;
  if (profile != nullptr) {
    r.profile = *profile;
  } else {
    r.profile = profile_model(w, [&](const std::string& what, double done) { say(what, 0.4 * done); });
  }
  r.baseline.predicted = predict_model(w, r.profile, baseline_candidate());
  for (const model_candidate& c : model_candidates(w)) {
    r.rows.push_back({predict_model(w, r.profile, c), std::nullopt, {}});
  }
  std::stable_sort(r.rows.begin(), r.rows.end(), [](const model_row& a, const model_row& b) {
    if (a.predicted.fits != b.predicted.fits) {
      return a.predicted.fits;
    }
    return a.predicted.step_seconds < b.predicted.step_seconds;
  });
  const std::vector<std::size_t> chosen = choose(r.rows, o.top);
  const double parts = static_cast<double>(chosen.size() + 1);
  say("measuring the one-worker baseline", 0.4);
  r.baseline.measured = measure_model(w, r.baseline.predicted, o.steps, &r.baseline.measured_timeline);
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    model_row& row = r.rows[chosen[k]];
    say("measuring " + row.predicted.candidate.label(), 0.4 + 0.6 * static_cast<double>(k + 1) / parts);
    row.measured = measure_model(w, row.predicted, o.steps, &row.measured_timeline);
  }
  say("done", 1);
  recommend(r, chosen);
  r.verdict = write_verdict(r);
  return r;
}

}  // namespace taskpipe::verdict
