#include "taskpipe/train/partition.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

#include "taskpipe/error.hpp"

namespace taskpipe::train {

namespace {

struct evaluation {
  double worst_time = 0;
  double worst_memory = 0;
};

class searcher {
 public:
  explicit searcher(const partition_request& r) : m_r(r), m_ranks(0) {
    for (int rank : r.stage_rank) {
      m_ranks = std::max(m_ranks, rank + 1);
    }
    m_bounds.assign(r.stage_rank.size() + 1, 0);
    m_bounds.back() = r.layers.size();
  }

  partition fill(const std::vector<std::size_t>& bounds) const {
    partition p;
    p.bounds = bounds;
    const std::size_t stages = bounds.size() - 1;
    p.stage_time.assign(stages, 0);
    p.rank_time.assign(static_cast<std::size_t>(m_ranks), 0);
    p.rank_memory.assign(static_cast<std::size_t>(m_ranks), 0);
    std::vector<double> largest_activation(static_cast<std::size_t>(m_ranks), 0);
    std::vector<double> largest_work(static_cast<std::size_t>(m_ranks), 0);
    for (std::size_t s = 0; s < stages; ++s) {
      const auto rank = static_cast<std::size_t>(m_r.stage_rank[s]);
      double activation = 0;
      for (std::size_t l = bounds[s]; l < bounds[s + 1]; ++l) {
        const layer_cost& c = m_r.layers[l];
        p.stage_time[s] += c.f + c.b + c.w;
        p.rank_memory[rank] += 4 * c.parameter_bytes;
        activation += c.held_bytes();
        largest_work[rank] = std::max(largest_work[rank], c.work_bytes);
      }
      p.rank_time[rank] += p.stage_time[s];
      largest_activation[rank] = std::max(largest_activation[rank], activation);
    }
    for (std::size_t rank = 0; rank < p.rank_memory.size(); ++rank) {
      const double peak = rank < m_r.peak_activations.size() ? m_r.peak_activations[rank] : 0;
      p.rank_memory[rank] += peak * largest_activation[rank] + largest_work[rank];
    }
    return p;
  }

  // Enumerates every composition of the layers into the stages (the lists are short: at most a few thousand cuts).
  void search(std::size_t stage) {
    const std::size_t stages = m_bounds.size() - 1;
    if (stage == stages - 1) {
      consider();
      return;
    }
    const std::size_t remaining = stages - stage - 1;
    for (std::size_t end = m_bounds[stage] + 1; end + remaining <= m_r.layers.size(); ++end) {
      m_bounds[stage + 1] = end;
      search(stage + 1);
    }
  }

  void consider() {
    const partition p = fill(m_bounds);
    const double time = *std::max_element(p.rank_time.begin(), p.rank_time.end());
    const double memory = *std::max_element(p.rank_memory.begin(), p.rank_memory.end());
    if (!m_smallest || memory < m_smallest_memory) {
      m_smallest = m_bounds;
      m_smallest_memory = memory;
    }
    if (m_r.memory_per_worker > 0 && memory > m_r.memory_per_worker) {
      return;
    }
    if (!m_best || time < m_best_time || (time == m_best_time && memory < m_best_memory)) {
      m_best = m_bounds;
      m_best_time = time;
      m_best_memory = memory;
    }
  }

  const partition_request& m_r;
  int m_ranks;
  std::vector<std::size_t> m_bounds;
  std::optional<std::vector<std::size_t>> m_best;
  double m_best_time = 0;
  double m_best_memory = 0;
  std::optional<std::vector<std::size_t>> m_smallest;
  double m_smallest_memory = 0;
};

void check(const partition_request& r) {
  const std::size_t stages = r.stage_rank.size();
  if (stages == 0 || stages > r.layers.size()) {
    throw invalid_argument("partition: " + std::to_string(stages) + " stages for " + std::to_string(r.layers.size()) +
                           " layers; each stage needs at least one layer (stages in [1, " +
                           std::to_string(r.layers.size()) + "])");
  }
  int ranks = 0;
  for (int rank : r.stage_rank) {
    if (rank < 0) {
      throw invalid_argument("partition: stage placed on rank " + std::to_string(rank) + "; ranks are >= 0");
    }
    ranks = std::max(ranks, rank + 1);
  }
  if (r.peak_activations.size() != static_cast<std::size_t>(ranks)) {
    throw invalid_argument("partition: " + std::to_string(r.peak_activations.size()) + " peak activation counts for " +
                           std::to_string(ranks) + " ranks (one per rank)");
  }
  for (const layer_cost& c : r.layers) {
    for (double v : {c.f, c.b, c.w, c.parameter_bytes, c.activation_bytes, c.w_bytes, c.work_bytes}) {
      if (!(v >= 0) || !std::isfinite(v)) {
        throw invalid_argument("partition: a layer cost of " + std::to_string(v) + "; costs are finite and >= 0");
      }
    }
  }
  if (!(r.memory_per_worker >= 0)) {
    throw invalid_argument("partition: memory per worker " + std::to_string(r.memory_per_worker) + "; must be >= 0");
  }
}

}  // namespace

std::string partition::describe() const {
  std::ostringstream out;
  for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
    out << "stage " << s << ": layers [" << bounds[s] << ", " << bounds[s + 1] << ") time " << stage_time[s] << '\n';
  }
  for (std::size_t r = 0; r < rank_time.size(); ++r) {
    out << "rank " << r << ": time " << rank_time[r] << " memory " << static_cast<long long>(rank_memory[r])
        << " bytes\n";
  }
  return out.str();
}

partition make_partition(const partition_request& request) {
  check(request);
  searcher s(request);
  s.search(0);
  if (!s.m_best) {
    const partition smallest = s.fill(*s.m_smallest);
    std::ostringstream out;
    out << "partition: no cut of " << request.layers.size() << " layers into " << request.stage_rank.size()
        << " stages fits " << static_cast<long long>(request.memory_per_worker)
        << " bytes per worker; the smallest cut needs";
    for (std::size_t r = 0; r < smallest.rank_memory.size(); ++r) {
      out << (r == 0 ? " " : ", ") << "rank " << r << ' ' << static_cast<long long>(smallest.rank_memory[r]);
    }
    out << " bytes";
    throw invalid_argument(out.str());
  }
  return s.fill(*s.m_best);
}

}  // namespace taskpipe::train
