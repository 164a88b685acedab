// detail/recorder.hpp — per-thread counters, latencies and trace slices of one run, merged into pipeline_stats.
//
// Each thread of a run (an executor worker, or a pinned stage thread) writes only its own record, so recording needs
// no synchronisation; the run joins every thread before `finish()` reads the records. Recording never throws in the
// middle of a run (an exception there would escape a task or a stage thread halfway through moving an item): a
// sample that cannot be stored for want of memory is noted, and `finish()` throws std::bad_alloc for it.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "taskpipe/pipeline/detail/stage.hpp"
#include "taskpipe/pipeline/detail/token.hpp"
#include "taskpipe/pipeline/pipeline_stats.hpp"

namespace taskpipe::detail {

/// Execution times of the timed items, four buckets per power of two of ticks (about 9 % wide): enough for robust
/// percentiles of a stage's time, which one preempted call cannot move the way it moves a mean or a variance.
struct busy_histogram {
  static constexpr std::size_t buckets = 256;
  std::array<std::uint32_t, buckets> counts{};

  static std::size_t bucket_of(std::int64_t ticks) noexcept {
    if (ticks < 4) {
      return static_cast<std::size_t>(std::max<std::int64_t>(ticks, 0));
    }
    const auto u = static_cast<std::uint64_t>(ticks);
    const auto octave = static_cast<std::size_t>(63 - std::countl_zero(u));
    const auto quarter = static_cast<std::size_t>((u >> (octave - 2)) & 3U);
    return std::min(buckets - 1, 4 * (octave - 1) + quarter);
  }
  /// The geometric middle of a bucket, in ticks.
  static double middle_of(std::size_t b) noexcept {
    if (b < 4) {
      return static_cast<double>(b);
    }
    const std::size_t octave = b / 4 + 1;
    const double low = std::ldexp(1.0 + static_cast<double>(b % 4) / 4.0, static_cast<int>(octave));
    return low * std::sqrt(1.0 + 0.25 / (1.0 + static_cast<double>(b % 4) / 4.0));
  }
};

struct stage_counters {
  std::uint64_t items = 0;
  std::uint64_t timed_items = 0;  // items whose execution was timed (busy_ticks covers these)
  std::int64_t busy_ticks = 0;
  double busy_square_ticks = 0;  // sum of squared execution times of the timed items, for the spread
  busy_histogram histogram;
  std::int64_t wait_input_ticks = 0;
  std::int64_t wait_output_ticks = 0;
};

struct trace_slice {
  std::uint32_t stage;
  std::uint64_t seq;
  std::int64_t begin_ticks;  // since the run started
  std::int64_t end_ticks;
};

struct alignas(64) thread_record {
  std::vector<stage_counters> stages;
  std::vector<std::int64_t> latencies_ticks;
  std::vector<trace_slice> slices;
  std::string track_name;
  bool lost_samples = false;  // a latency or slice could not be stored (out of memory)
};

class recorder {
 public:
  /// `sample` (a power of two) is how many items share one timed item; tracing times every item.
  recorder(std::size_t threads, std::size_t stages, bool trace, std::size_t sample);

  /// Whether stage executions of item `seq` are timed. Items are picked by a hash of their sequence number, so a
  /// periodic pattern in the stream does not bias the sample.
  [[nodiscard]] bool timed(std::uint64_t seq) const noexcept {
    std::uint64_t h = seq * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 32U;
    return (h & sample_mask_) == 0;
  }

  /// Counts an untimed execution.
  void counted(std::size_t th, std::size_t stage) noexcept { ++threads_[th].stages[stage].items; }

  [[nodiscard]] bool tracing() const noexcept { return trace_; }
  [[nodiscard]] pipeline_clock::time_point origin() const noexcept { return origin_; }
  thread_record& thread(std::size_t i) noexcept { return threads_[i]; }
  [[nodiscard]] std::size_t thread_count() const noexcept { return threads_.size(); }

  /// Records one timed execution of `stage` on `seq` by thread `th`, from `begin` to `end`.
  void executed(std::size_t th, std::size_t stage, std::uint64_t seq, pipeline_clock::time_point begin,
                pipeline_clock::time_point end) noexcept {
    auto& r = threads_[th];
    auto& c = r.stages[stage];
    ++c.items;
    ++c.timed_items;
    const std::int64_t took = elapsed_ticks(end - begin);
    c.busy_ticks += took;
    c.busy_square_ticks += static_cast<double>(took) * static_cast<double>(took);
    ++c.histogram.counts[busy_histogram::bucket_of(took)];
    if (trace_) {
      try {
        r.slices.push_back(
            {static_cast<std::uint32_t>(stage), seq, elapsed_ticks(begin - origin_), elapsed_ticks(end - origin_)});
      } catch (...) {
        r.lost_samples = true;
      }
    }
  }

  /// Records a timed item's latency, from the source's return to the sink's.
  void latency(std::size_t th, std::int64_t ticks) noexcept {
    auto& r = threads_[th];
    try {
      r.latencies_ticks.push_back(ticks);
    } catch (...) {
      r.lost_samples = true;
    }
  }

  /// Merges the records; writes the trace when `trace_path` is set. Throws taskpipe::error if the file cannot be
  /// written, std::bad_alloc if a sample was lost for want of memory.
  pipeline_stats finish(const chain& c, execution_strategy s, const std::string& trace_path);

 private:
  bool trace_;
  std::uint64_t sample_mask_;
  std::chrono::steady_clock::time_point start_;
  pipeline_clock::time_point origin_;
  std::vector<thread_record> threads_;
};

/// Writes the slices as Chrome-trace JSON with the trace layer (one track per thread record). Throws taskpipe::error
/// on I/O failure.
void write_chrome_trace(const std::string& path, const chain& c, const std::vector<thread_record>& threads,
                        double ns_per_tick);

}  // namespace taskpipe::detail
