#include "taskpipe/pipeline/detail/recorder.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <new>

namespace taskpipe::detail {

double pipeline_clock::ns_per_tick() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  static const double ratio = [] {
    using steady = std::chrono::steady_clock;
    const auto s0 = steady::now();
    const time_point t0 = now();
    while (steady::now() - s0 < std::chrono::milliseconds(1)) {
    }
    const auto s1 = steady::now();
    const time_point t1 = now();
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(s1 - s0).count()) /
           static_cast<double>(std::max<time_point>(1, t1 - t0));
  }();
  return ratio;
#else
  return 1.0;
#endif
}

namespace {
std::chrono::nanoseconds ticks_to_ns(std::int64_t ticks) {
  return std::chrono::nanoseconds(
      static_cast<std::int64_t>(static_cast<double>(ticks) * pipeline_clock::ns_per_tick()));
}
}  // namespace

recorder::recorder(std::size_t threads, std::size_t stages, bool trace, std::size_t sample)
    : trace_(trace),
      sample_mask_(trace ? 0 : sample - 1),
      start_(std::chrono::steady_clock::now()),
      origin_(pipeline_clock::now()),
      threads_(threads) {
  (void)pipeline_clock::ns_per_tick();  // calibrate before the run, not in the middle of its statistics
  for (auto& r : threads_) {
    r.stages.resize(stages);
  }
}

pipeline_stats recorder::finish(const chain& c, execution_strategy s, const std::string& trace_path) {
  for (const auto& r : threads_) {
    if (r.lost_samples) {
      throw std::bad_alloc();  // statistics with holes in them would pass for complete ones
    }
  }
  pipeline_stats out;
  out.strategy = s;
  out.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_);
  out.stages.resize(c.stages.size());
  std::vector<std::int64_t> lat;
  for (const auto& r : threads_) {
    for (std::size_t i = 0; i < c.stages.size(); ++i) {
      auto& o = out.stages[i];
      o.items += r.stages[i].items;
      // Busy time is measured on the timed sample only: scale it up to every item.
      const double scale = r.stages[i].timed_items == 0
                               ? 0.0
                               : static_cast<double>(r.stages[i].items) / static_cast<double>(r.stages[i].timed_items);
      o.busy += ticks_to_ns(static_cast<std::int64_t>(static_cast<double>(r.stages[i].busy_ticks) * scale));
      o.wait_input += ticks_to_ns(r.stages[i].wait_input_ticks);
      o.wait_output += ticks_to_ns(r.stages[i].wait_output_ticks);
    }
    lat.insert(lat.end(), r.latencies_ticks.begin(), r.latencies_ticks.end());
  }
  for (std::size_t i = 0; i < c.stages.size(); ++i) {
    std::uint64_t timed = 0;
    double sum = 0;
    double square = 0;
    for (const auto& r : threads_) {
      timed += r.stages[i].timed_items;
      sum += static_cast<double>(r.stages[i].busy_ticks);
      square += r.stages[i].busy_square_ticks;
    }
    busy_histogram merged;
    for (const auto& r : threads_) {
      for (std::size_t b = 0; b < busy_histogram::buckets; ++b) {
        merged.counts[b] += r.stages[i].histogram.counts[b];
      }
    }
    const auto quantile = [&](double q) {
      const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(timed)));
      std::uint64_t seen = 0;
      for (std::size_t b = 0; b < busy_histogram::buckets; ++b) {
        seen += merged.counts[b];
        if (seen >= std::max<std::uint64_t>(rank, 1)) {
          return ticks_to_ns(static_cast<std::int64_t>(busy_histogram::middle_of(b)));
        }
      }
      return std::chrono::nanoseconds{0};
    };
    if (timed > 0) {
      out.stages[i].busy_p50 = quantile(0.50);
      out.stages[i].busy_p99 = quantile(0.99);
    }
    if (timed >= 2 && sum > 0) {
      const double n = static_cast<double>(timed);
      const double mean = sum / n;
      out.stages[i].busy_spread = std::sqrt(std::max(0.0, square / n - mean * mean)) / mean;
    }
    out.stages[i].name = c.stages[i]->name();
    out.stages[i].mode = c.stages[i]->mode();
  }
  out.items = out.stages.back().items;
  // Percentile by nearest rank: the smallest latency with at least p of the items at or below it.
  auto percentile = [&lat](double p) {
    if (lat.empty()) {
      return std::chrono::nanoseconds{0};
    }
    const auto rank = static_cast<std::size_t>(std::llround(p * static_cast<double>(lat.size() - 1)));
    std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(rank), lat.end());
    return ticks_to_ns(lat[rank]);
  };
  out.latency_p50 = percentile(0.50);
  out.latency_p99 = percentile(0.99);
  if (!trace_path.empty()) {
    write_chrome_trace(trace_path, c, threads_, pipeline_clock::ns_per_tick());
  }
  return out;
}

}  // namespace taskpipe::detail
