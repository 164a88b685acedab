// What `taskpipe train --json` reports of a dp, pp or hybrid run's layout and workers, one schema for the in-process
// threads and the MPI ranks: the partition, and per worker (replica d, pipeline rank r) its busy and idle time and
// its peak memory by category. Under mpirun the figures travel to world rank 0 as plain numbers (to_numbers /
// from_numbers) and are printed there.
#pragma once

#include <array>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "taskpipe/nn/memory.hpp"
#include "taskpipe/train/parallel_plan.hpp"

namespace taskpipe::cli {

struct worker_figures {
  int replica = 0;
  int rank = 0;
  double busy_s = 0;  ///< running F, B, I and W
  double idle_s = 0;  ///< the rest of its schedules' spans: the bubble
  std::array<std::size_t, nn::memory_category_count> peak{};
  std::size_t peak_total = 0;

  static worker_figures of(int replica, int rank, double busy_s, double idle_s, const nn::memory_ledger& ledger);
  /// How many numbers to_numbers writes.
  static constexpr std::size_t numbers = 5 + nn::memory_category_count;
  void to_numbers(std::span<double, numbers> out) const;
  static worker_figures from_numbers(std::span<const double, numbers> in);
};

/// {"source", "bounds", "stage_rank", "stage_time", "rank_time", "rank_memory"}.
nlohmann::ordered_json partition_json(const train::parallel_plan& p);

/// Sets j["peak_bytes"] (per category, the largest worker's) and j["workers"]: one object per worker, in order,
/// {"replica", "rank", "busy_s", "idle_s", "peak_bytes": {category: bytes, ..., "total"}}.
void add_workers_json(nlohmann::ordered_json& j, const std::vector<worker_figures>& workers);

}  // namespace taskpipe::cli
