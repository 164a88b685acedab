#include "taskpipe/verdict/stream_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "taskpipe/error.hpp"

namespace taskpipe::verdict {
namespace {

std::size_t strategy_index(execution_strategy s) noexcept { return static_cast<std::size_t>(s); }

std::size_t threads_of_stage(const stage_profile& s, std::size_t i, std::size_t width) noexcept {
  return i == 0 || is_serial(s.mode) ? 1 : width;
}

/// A station of the closed queueing network that the items in flight circulate through.
struct station {
  double demand_ns;  // service time per item
  double servers;    // 1 for a serial stage; the threads or cores a parallel one may use
};

/// Throughput of `tokens` items circulating through `stations` (items/s), by exact mean-value analysis for the
/// single-server stations and Seidmann's approximation for the multi-server ones (a c-server station of demand D is a
/// queue of demand D/c plus a delay of D(c-1)/c). It tends to the slowest station's rate as the tokens grow and is
/// 1 / (one item's time) with one token.
double closed_network_throughput(const std::vector<station>& stations, std::size_t tokens) {
  std::vector<double> queued(stations.size(), 0.0);  // items in the queueing part of each station
  std::vector<double> residence(stations.size(), 0.0);
  double x = 0;
  for (std::size_t n = 1; n <= tokens; ++n) {
    double cycle = 0;
    for (std::size_t k = 0; k < stations.size(); ++k) {
      const double c = std::max(1.0, stations[k].servers);
      const double delay = stations[k].demand_ns * (c - 1) / c;
      residence[k] = stations[k].demand_ns / c * (1 + queued[k]) + delay;
      cycle += residence[k];
    }
    x = static_cast<double>(n) / std::max(cycle, 1e-9);
    for (std::size_t k = 0; k < stations.size(); ++k) {
      const double c = std::max(1.0, stations[k].servers);
      queued[k] = x * (residence[k] - stations[k].demand_ns * (c - 1) / c);  // Little's law on the queueing part
    }
  }
  return x * 1e9;
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
    case stream_bound::stage_threads:
      return "threads of stage " + stage_name() + " (" + std::to_string(candidate.workers) + ")";
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

stream_prediction predict(const chain_profile& p, const stream_candidate& c, std::size_t cores) {
  stream_prediction r;
  r.candidate = c;
  const double h = p.handoff_ns[strategy_index(c.strategy)];
  const bool pinned = c.strategy == execution_strategy::pinned;
  // Token and farm on several workers move every stage between cores: their stage times are the shared ones.
  const bool shared = !pinned && c.workers > 1;
  const auto time_of = [shared](const stage_profile& s) {
    return shared && s.shared_mean_ns > 0 ? s.shared_mean_ns : s.mean_ns;
  };
  double latency = 0;
  double variance = 0;
  std::size_t largest_item = 0;
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const auto& s = p.stages[i];
    latency += time_of(s) + h;
    variance += (s.spread * time_of(s)) * (s.spread * time_of(s));
    largest_item = std::max(largest_item, s.item_bytes);
    r.threads += pinned ? threads_of_stage(s, i, c.workers) : 0;
  }
  if (!pinned) {
    r.threads = c.workers;
  }
  latency = std::max(latency, 1.0);
  // Cores: the busy threads can never exceed the cores, nor (on the executor) the workers.
  double usable = static_cast<double>(cores);
  if (p.effective_cores > 0) {
    usable = std::min(usable, p.effective_cores);
  }
  const double busy = std::min(usable, static_cast<double>(r.threads));
  double x = busy / latency * 1e9;
  r.bound = stream_bound::cores;
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const auto& s = p.stages[i];
    const double per = std::max(time_of(s) + h, 1.0);
    if (i == 0 || is_serial(s.mode)) {
      if (1e9 / per < x) {
        x = 1e9 / per;
        r.bound = stream_bound::serial_stage;
        r.bound_stage = i;
      }
    } else if (pinned && static_cast<double>(c.workers) * 1e9 / per < x) {
      x = static_cast<double>(c.workers) * 1e9 / per;
      r.bound = stream_bound::stage_threads;
      r.bound_stage = i;
    }
  }
  // Tokens: the items in flight circulate through the stages like customers of a closed queueing network, and wait
  // in line at the serial stages; with few tokens that, not the slowest stage, sets the rate.
  std::vector<station> stations;
  double parallel_ns = 0;
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const auto& s = p.stages[i];
    const double d = std::max(time_of(s) + h, 1.0);
    if (i == 0 || is_serial(s.mode)) {
      stations.push_back({d, 1.0});
    } else if (pinned) {
      stations.push_back({d, std::min(static_cast<double>(c.workers), busy)});
    } else {
      parallel_ns += d;  // on the executor every parallel stage shares the same workers
    }
  }
  if (parallel_ns > 0) {
    stations.push_back({parallel_ns, busy});
  }
  const double by_tokens = closed_network_throughput(stations, c.max_in_flight);
  if (by_tokens < x * 0.99) {
    x = by_tokens;
    r.bound = stream_bound::tokens;
  } else {
    x = std::min(x, by_tokens);
  }
  r.throughput = x;
  r.busy_cores = busy;
  const bool tokens_fill = !(r.bound == stream_bound::serial_stage && r.bound_stage == 0);
  const double mean = tokens_fill ? std::max(latency, static_cast<double>(c.max_in_flight) / x * 1e9) : latency;
  r.latency_p50_ns = mean;
  r.latency_p99_ns = mean + 2.33 * std::sqrt(variance);
  // Memory per worker: the items alive, shared by the threads that hold them, and the state each worker touches.
  const std::size_t holders = std::max<std::size_t>(1, r.threads);
  std::size_t state = 0;
  std::size_t largest_state = 0;
  for (const auto& s : p.stages) {
    state += s.state_bytes;
    largest_state = std::max(largest_state, s.state_bytes);
  }
  r.memory_per_worker = c.max_in_flight * largest_item / holders + (pinned ? largest_state : state);
  return r;
}

}  // namespace taskpipe::verdict
