#include "taskpipe/verdict/stream_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <utility>

#include "taskpipe/error.hpp"

namespace taskpipe::verdict {
namespace {

/// A station of the closed queueing network that the items in flight circulate through.
struct station {
  double demand_ns;  // service time per item
  double servers;    // 1 for a serial stage; the threads or cores a parallel one may use
  double cv = 1;     // the service time's coefficient of variation
};

/// Throughput of `tokens` items circulating through `stations` (items/s), by exact mean-value analysis for the
/// single-server stations and Seidmann's approximation for the multi-server ones (a c-server station of demand D is a
/// queue of demand D/c plus a delay of D(c-1)/c). It tends to the slowest station's rate as the tokens grow and is
/// 1 / (one item's time) with one token. Service times are not exponential: an arriving item waits for the one in
/// service only its mean residual time, (1 + cv^2) / 2 of a service (the approximate MVA for general FCFS service),
/// which for steady stages is half the exponential's wait.
double closed_network_throughput(const std::vector<station>& stations, std::size_t tokens) {
  std::vector<double> queued(stations.size(), 0.0);  // items in the queueing part of each station
  std::vector<double> residence(stations.size(), 0.0);
  double x = 0;
  for (std::size_t n = 1; n <= tokens; ++n) {
    double cycle = 0;
    for (std::size_t k = 0; k < stations.size(); ++k) {
      const double c = std::max(1.0, stations[k].servers);
      const double delay = stations[k].demand_ns * (c - 1) / c;
      const double service = stations[k].demand_ns / c;
      const double in_service = std::min(queued[k], x / 1e9 * service);  // the busy part of the queue, X x S
      const double residual = (1 + stations[k].cv * stations[k].cv) / 2;
      residence[k] = service * (1 + queued[k] - in_service + in_service * residual) + delay;
      cycle += residence[k];
    }
    x = static_cast<double>(n) / std::max(cycle, 1e-9) * 1e9;
    for (std::size_t k = 0; k < stations.size(); ++k) {
      const double c = std::max(1.0, stations[k].servers);
      queued[k] = x / 1e9 * (residence[k] - stations[k].demand_ns * (c - 1) / c);  // Little's law, queueing part
    }
  }
  return x;
}

bool serial_at(const chain_profile& p, std::size_t i) { return i == 0 || is_serial(p.stages[i].mode); }

/// The cores the busy threads may use: the hardware's, or fewer where calibration found the machine shared.
double usable_cores(const chain_profile& p, std::size_t cores) {
  double usable = static_cast<double>(cores);
  if (p.effective_cores > 0) {
    usable = std::min(usable, p.effective_cores);
  }
  return usable;
}

// The tokens bound over `stations`, plus one station of `shared_ns` served by `busy` threads when there is one (the
// stages every thread runs), against `x`, the least of the other bounds: the candidate's throughput is the lesser,
// and the tokens are named as its bound when they bind.
void settle_throughput(std::vector<station> stations, double shared_ns, double shared_cv, double busy, double x,
                       stream_prediction& r) {
  if (shared_ns > 0) {
    stations.push_back({shared_ns, busy, shared_cv});
  }
  const double by_tokens = closed_network_throughput(stations, r.candidate.max_in_flight);
  if (by_tokens < x * 0.99) {
    x = by_tokens;
    r.bound = stream_bound::tokens;
  } else {
    x = std::min(x, by_tokens);
  }
  r.throughput = x;
  r.busy_cores = busy;
}

/// Latency and memory once throughput and its bound are known; `latency` is one item's time through an idle chain,
/// `variance` that time's, `state` what one worker holds.
void finish(const chain_profile& p, double latency, double variance, std::size_t state, stream_prediction& r) {
  std::size_t largest_item = 0;
  for (const auto& s : p.stages) {
    largest_item = std::max(largest_item, s.item_bytes);
  }
  // The source's own bound (a serial source, or a pinned segment holding it) never lets the tokens fill.
  const bool source_bound =
      r.bound_stage == 0 && (r.bound == stream_bound::serial_stage || r.bound == stream_bound::stage_threads);
  const double mean =
      source_bound ? latency : std::max(latency, static_cast<double>(r.candidate.max_in_flight) / r.throughput * 1e9);
  r.latency_p50_ns = mean;
  r.latency_p99_ns = mean + 2.33 * std::sqrt(variance);
  // The items alive are shared by the threads that hold them.
  r.memory_per_worker = r.candidate.max_in_flight * largest_item / std::max<std::size_t>(1, r.threads) + state;
}

/// Pinned on its budget (the header's model): the bounds of the placement the library makes.
stream_prediction predict_pinned(const chain_profile& p, const stream_candidate& c, std::size_t cores) {
  stream_prediction r;
  r.candidate = c;
  const auto segs = pinned_layout(p, c.workers);
  // One segment keeps every item on one thread: no queue between cores, a much cheaper hand-off.
  const double h = segs.size() == 1 && p.pinned_solo_handoff_ns > 0
                       ? p.pinned_solo_handoff_ns
                       : p.handoff_ns[static_cast<std::size_t>(execution_strategy::pinned)];
  // Under load, hand-offs between threads also pay the contention the empty chain does not show (the header's e).
  const double loaded = segs.size() > 1 ? p.pinned_handoff_extra_ns : 0.0;
  std::vector<std::string> names;
  double latency = 0;
  double variance = 0;  // of one item's time through the chain: the sum of the segments' (every stage is in one)
  for (const auto& s : p.stages) {
    names.push_back(s.name);
    latency += s.mean_ns;
  }
  r.placement = detail::describe_placement(segs, names);
  latency = std::max(latency + static_cast<double>(segs.size()) * h, 1.0);
  for (const auto& g : segs) {
    r.threads += g.threads;
  }
  const double busy = std::min(usable_cores(p, cores), static_cast<double>(r.threads));
  // A segment's threads run its stages back to back and pay one hand-off.
  std::vector<station> stations;
  double helped_ns = 0;
  double helped_var = 0;
  std::size_t own_state = 0;  // the most state one thread's own segment holds
  std::size_t helped_state = 0;
  double by_segment = 0;
  const detail::pinned_segment* slowest = nullptr;
  for (const auto& g : segs) {
    const double d = std::max(g.cost + h, 1.0);
    std::size_t state = 0;
    double var = 0;
    for (std::size_t i = g.first; i <= g.last; ++i) {
      state += p.stages[i].state_bytes;
      var += (p.stages[i].spread * p.stages[i].mean_ns) * (p.stages[i].spread * p.stages[i].mean_ns);
    }
    variance += var;
    if (g.helped) {  // every thread runs it when idle: bounded by the cores, with the other helped segments
      helped_ns += d;
      helped_var += var;
      helped_state += state;
      continue;
    }
    own_state = std::max(own_state, state);
    const double k = static_cast<double>(std::max<std::size_t>(g.threads, 1));
    stations.push_back({d, std::min(k, busy), std::sqrt(var) / d});
    const double rate = k / std::max(d + loaded, 1.0) * 1e9;
    if (slowest == nullptr || rate < by_segment) {
      by_segment = rate;
      slowest = &g;
    }
  }
  double x = busy / std::max(latency + loaded * static_cast<double>(segs.size()), 1.0) * 1e9;
  r.bound = stream_bound::cores;
  // A tie goes to the segment: it names what to change (one thread running the whole chain is bound by that thread).
  if (slowest != nullptr && by_segment <= x * (1 + 1e-9)) {
    x = by_segment;
    const bool lone_serial = slowest->first == slowest->last && serial_at(p, slowest->first);
    r.bound = lone_serial ? stream_bound::serial_stage : stream_bound::stage_threads;
    r.bound_stage = slowest->first;
    r.bound_last = slowest->last;
    r.bound_threads = slowest->threads;
  }
  settle_throughput(std::move(stations), helped_ns, helped_ns > 0 ? std::sqrt(helped_var) / helped_ns : 1.0, busy, x,
                    r);
  finish(p, latency, variance, own_state + helped_state, r);
  return r;
}

}  // namespace

bool chain_profile::farm_allowed() const noexcept {
  for (std::size_t i = 1; i + 1 < stages.size(); ++i) {
    if (stages[i].mode != stage_mode::parallel) {
      return false;
    }
  }
  return stages.size() >= 2;
}

std::string stream_candidate::label() const {
  return std::string(to_string(strategy)) + ", " + std::to_string(workers) +
         (workers == 1 ? " worker, " : " workers, ") + std::to_string(max_in_flight) + " in flight";
}

std::string stream_prediction::bound_text(const chain_profile& p) const {
  const auto stage_name = [&] {
    return bound_stage < p.stages.size() ? "'" + p.stages[bound_stage].name + "'" : std::string("?");
  };
  switch (bound) {
    case stream_bound::serial_stage:
      return "serial stage " + stage_name();
    case stream_bound::cores: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "cores (%.2g busy)", busy_cores);
      return buf;
    }
    case stream_bound::stage_threads: {
      std::string stages;
      for (std::size_t i = bound_stage; i <= std::max(bound_stage, bound_last) && i < p.stages.size(); ++i) {
        stages += (i == bound_stage ? "" : "+") + p.stages[i].name;
      }
      const std::string count = " (" + std::to_string(bound_threads) + ")";
      return bound_last > bound_stage ? "threads of '" + stages + "'" + count
                                      : "threads of stage " + stage_name() + count;
    }
    case stream_bound::tokens:
      return "tokens (" + std::to_string(candidate.max_in_flight) + " in flight)";
  }
  return "?";
}

std::vector<stream_candidate> stream_candidates(const chain_profile& p, std::size_t max_workers) {
  if (p.stages.size() < 2) {
    throw invalid_argument("stream_candidates: a chain profile needs at least a source and a sink");
  }
  max_workers = std::max<std::size_t>(1, max_workers);
  std::set<std::size_t> workers{max_workers};
  for (std::size_t w = 1; w < max_workers; w *= 2) {
    workers.insert(w);
  }
  std::vector<execution_strategy> strategies{execution_strategy::token, execution_strategy::pinned};
  if (p.farm_allowed()) {
    strategies.push_back(execution_strategy::farm);
  }
  std::vector<stream_candidate> out;
  for (const auto s : strategies) {
    for (const auto w : workers) {
      std::set<std::size_t> tokens;
      for (const std::size_t k : {1U, 2U, 4U, 8U}) {
        tokens.insert(std::max<std::size_t>(2, k * w));
      }
      for (const auto n : tokens) {
        out.push_back({s, w, n});
      }
    }
  }
  return out;
}

std::vector<double> pinned_costs(const chain_profile& p) {
  std::vector<double> cost;
  cost.reserve(p.stages.size());
  for (const auto& s : p.stages) {
    cost.push_back(std::max(s.mean_ns, 0.0));
  }
  return cost;
}

std::vector<detail::pinned_segment> pinned_layout(const chain_profile& p, std::size_t budget) {
  std::vector<bool> serial(p.stages.size());
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    serial[i] = serial_at(p, i);
  }
  return detail::place_pinned(pinned_costs(p), serial, budget, 0);
}

stream_prediction predict(const chain_profile& p, const stream_candidate& c, std::size_t cores) {
  if (c.strategy == execution_strategy::pinned) {
    return predict_pinned(p, c, cores);
  }
  stream_prediction r;
  r.candidate = c;
  r.threads = c.workers;
  // Token and farm on several workers move every stage between cores: their stage times are the shared ones. Under
  // load (the cores and the serial stages saturated) each hand-off also pays what contention from the other workers
  // adds; an item through an idle chain, and the few items of the tokens bound, do not.
  const bool shared = c.workers > 1;
  const auto k = static_cast<std::size_t>(c.strategy);
  const double h = !shared && p.handoff_one_worker_ns[k] > 0 ? p.handoff_one_worker_ns[k] : p.handoff_ns[k];
  const double loaded = shared ? p.shared_handoff_extra_ns : 0.0;
  const auto time_of = [shared](const stage_profile& s) {
    return shared && s.shared_mean_ns > 0 ? s.shared_mean_ns : s.mean_ns;
  };
  double latency = 0;
  for (const auto& s : p.stages) {
    latency += time_of(s) + h;
  }
  latency = std::max(latency, 1.0);
  // Cores: the busy threads can never exceed the cores, nor (on the executor) the workers.
  const double busy = std::min(usable_cores(p, cores), static_cast<double>(r.threads));
  double x = busy / std::max(latency + loaded * static_cast<double>(p.stages.size()), 1.0) * 1e9;
  r.bound = stream_bound::cores;
  // Tokens: the items in flight circulate through the stages like customers of a closed queueing network, and wait
  // in line at the serial stages; with few tokens that, not the slowest stage, sets the rate.
  std::vector<station> stations;
  double parallel_ns = 0;
  double parallel_var = 0;
  double variance = 0;  // of one item's time through the chain
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const double d = std::max(time_of(p.stages[i]) + h, 1.0);
    const double sd = p.stages[i].spread * time_of(p.stages[i]);
    variance += sd * sd;
    if (serial_at(p, i)) {
      stations.push_back({d, 1.0, sd / d});
      if (const double rate = 1e9 / std::max(d + loaded, 1.0); rate < x) {
        x = rate;
        r.bound = stream_bound::serial_stage;
        r.bound_stage = i;
      }
    } else {
      parallel_ns += d;  // on the executor every parallel stage shares the same workers
      parallel_var += sd * sd;
    }
  }
  settle_throughput(std::move(stations), parallel_ns, parallel_ns > 0 ? std::sqrt(parallel_var) / parallel_ns : 1.0,
                    busy, x, r);
  std::size_t state = 0;
  for (const auto& s : p.stages) {
    state += s.state_bytes;
  }
  finish(p, latency, variance, state, r);
  return r;
}

}  // namespace taskpipe::verdict
