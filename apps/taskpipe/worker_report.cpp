#include "worker_report.hpp"

#include <algorithm>
#include <string>

namespace taskpipe::cli {

worker_figures worker_figures::of(int replica, int rank, double busy_s, double idle_s,
                                  const nn::memory_ledger& ledger) {
  worker_figures w{.replica = replica, .rank = rank, .busy_s = busy_s, .idle_s = idle_s};
  for (std::size_t i = 0; i < nn::memory_category_count; ++i) {
    w.peak[i] = ledger.peak(static_cast<nn::memory_category>(i));
  }
  w.peak_total = ledger.peak_total();
  return w;
}

void worker_figures::to_numbers(std::span<double, numbers> out) const {
  out[0] = replica;
  out[1] = rank;
  out[2] = busy_s;
  out[3] = idle_s;
  out[4] = static_cast<double>(peak_total);
  for (std::size_t i = 0; i < peak.size(); ++i) {
    out[5 + i] = static_cast<double>(peak[i]);  // exact: byte counts stay far below 2^53
  }
}

worker_figures worker_figures::from_numbers(std::span<const double, numbers> in) {
  worker_figures w{.replica = static_cast<int>(in[0]),
                   .rank = static_cast<int>(in[1]),
                   .busy_s = in[2],
                   .idle_s = in[3],
                   .peak_total = static_cast<std::size_t>(in[4])};
  for (std::size_t i = 0; i < w.peak.size(); ++i) {
    w.peak[i] = static_cast<std::size_t>(in[5 + i]);
  }
  return w;
}

nlohmann::ordered_json partition_json(const train::parallel_plan& p) {
  nlohmann::ordered_json j;
  j["source"] = std::string(to_string(p.costs));
  j["bounds"] = p.cut.bounds;
  j["stage_rank"] = p.schedule.stage_rank;
  j["stage_time"] = p.cut.stage_time;
  j["rank_time"] = p.cut.rank_time;
  j["rank_memory"] = p.cut.rank_memory;
  return j;
}

void add_workers_json(nlohmann::ordered_json& j, const std::vector<worker_figures>& workers) {
  nlohmann::ordered_json peak = nlohmann::ordered_json::object();
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const worker_figures& w : workers) {
    nlohmann::ordered_json bytes;
    for (std::size_t i = 0; i < nn::memory_category_count; ++i) {
      bytes[std::string(nn::to_string(static_cast<nn::memory_category>(i)))] = w.peak[i];
    }
    bytes["total"] = w.peak_total;
    for (const auto& [key, value] : bytes.items()) {
      peak[key] = std::max(peak.value(key, std::size_t{0}), value.get<std::size_t>());
    }
    list.push_back(
        {{"replica", w.replica}, {"rank", w.rank}, {"busy_s", w.busy_s}, {"idle_s", w.idle_s}, {"peak_bytes", bytes}});
  }
  j["peak_bytes"] = peak;
  j["workers"] = list;
}

}  // namespace taskpipe::cli
