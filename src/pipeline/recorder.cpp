#include "taskpipe/pipeline/detail/recorder.hpp"

#include <algorithm>

namespace taskpipe::detail {

recorder::recorder(std::size_t threads, std::size_t stages, bool trace)
    : trace_(trace), origin_(pipeline_clock::now()), threads_(threads) {
  for (auto& r : threads_) {
    r.stages.resize(stages);
  }
}

pipeline_stats recorder::finish(const chain& c, execution_strategy s, const std::string& trace_path) {
  pipeline_stats out;
  out.strategy = s;
  out.elapsed = std::chrono::nanoseconds(to_ns(pipeline_clock::now() - origin_));
  out.stages.resize(c.stages.size());
  std::vector<std::int64_t> lat;
  for (const auto& r : threads_) {
    for (std::size_t i = 0; i < c.stages.size(); ++i) {
      auto& o = out.stages[i];
      o.items += r.stages[i].items;
      o.busy += std::chrono::nanoseconds(r.stages[i].busy_ns);
      o.wait_input += std::chrono::nanoseconds(r.stages[i].wait_input_ns);
      o.wait_output += std::chrono::nanoseconds(r.stages[i].wait_output_ns);
    }
    lat.insert(lat.end(), r.latencies_ns.begin(), r.latencies_ns.end());
  }
  for (std::size_t i = 0; i < c.stages.size(); ++i) {
    out.stages[i].name = c.stages[i]->name();
    out.stages[i].mode = c.stages[i]->mode();
  }
  out.items = out.stages.back().items;
  // Percentile by nearest rank: the smallest latency with at least p of the items at or below it.
  auto percentile = [&lat](double p) {
    if (lat.empty()) {
      return std::chrono::nanoseconds{0};
    }
    const auto rank = static_cast<std::size_t>(p * static_cast<double>(lat.size() - 1) + 0.5);
    std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(rank), lat.end());
    return std::chrono::nanoseconds(lat[rank]);
  };
  out.latency_p50 = percentile(0.50);
  out.latency_p99 = percentile(0.99);
  if (!trace_path.empty()) {
    write_chrome_trace(trace_path, c, threads_);
  }
  return out;
}

}  // namespace taskpipe::detail
