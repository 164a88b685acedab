// What a parallel_for call costs beyond its chunks, measured where load on the machine does not blur it (issue 17):
// - hand-off: from the end of the last chunk to the return in the calling thread (not a worker), which sleeps
//   during long calls and must be woken;
// - affinity: how often the worker that ran the first chunk, and the one that ran the last, differ from the
//   previous call's, over the same range (0 % means each worker gets the same part of the range on every call, as
//   with two plain threads that split a loop in halves; ~50 % means chance).
// Each call is 64 chunks (automatic partitioner, 2 workers) of busy-waiting for --chunk-us microseconds.
// Usage: algorithm_handoff [--calls=N] [--chunk-us=U]   (defaults 300 and 35: about 1.1 ms a call on 2 workers)
// Example:
//   build/bench/bench/algorithm_handoff --calls=500 --chunk-us=35
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "taskpipe/algorithm/parallel_for.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

// Takes --name=V (a positive integer up to `max`) from argv; exits 2 with one line on a bad value.
long flag(int argc, char** argv, std::string_view name, long fallback, long max) {
  const std::string prefix = "--" + std::string(name) + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with(prefix)) {
      char* end = nullptr;
      const long v = std::strtol(argv[i] + prefix.size(), &end, 10);
      if (end == argv[i] + prefix.size() || *end != '\0' || v < 1 || v > max) {
        std::fprintf(stderr, "algorithm_handoff: %s must be an integer from 1 to %ld, got '%s'\n", prefix.c_str(), max,
                     argv[i] + prefix.size());
        std::exit(2);
      }
      return v;
    }
  }
  return fallback;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (!a.starts_with("--calls=") && !a.starts_with("--chunk-us=")) {
      std::fprintf(stderr, "usage: algorithm_handoff [--calls=N] [--chunk-us=U]; unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  const long calls = flag(argc, argv, "calls", 300, 1'000'000);
  const long chunk_us = flag(argc, argv, "chunk-us", 35, 1'000'000);
  constexpr int chunks = 64;
  taskpipe::executor ex{taskpipe::executor_options{.workers = 2}};
  std::vector<double> hand_off_us;
  std::vector<double> call_us;
  long first_moved = 0;
  long last_moved = 0;
  std::size_t prev_first = 0;
  std::size_t prev_last = 0;
  for (long c = 0; c < calls; ++c) {
    std::atomic<std::int64_t> last_end{0};
    std::size_t first_worker = 0;
    std::size_t last_worker = 0;
    const std::int64_t start = now_ns();
    taskpipe::parallel_for(ex, 0, chunks, [&](int i) {
      if (i == 0) {
        first_worker = ex.this_worker_index().value_or(0);
      } else if (i == chunks - 1) {
        last_worker = ex.this_worker_index().value_or(0);
      }
      const std::int64_t begin = now_ns();
      while (now_ns() - begin < chunk_us * 1000) {
      }
      const std::int64_t end = now_ns();
      for (std::int64_t seen = last_end.load(); seen < end && !last_end.compare_exchange_weak(seen, end);) {
      }
    });
    const std::int64_t back = now_ns();
    hand_off_us.push_back(static_cast<double>(back - last_end.load()) / 1000.0);
    call_us.push_back(static_cast<double>(back - start) / 1000.0);
    if (c > 0) {
      first_moved += first_worker != prev_first ? 1 : 0;
      last_moved += last_worker != prev_last ? 1 : 0;
    }
    prev_first = first_worker;
    prev_last = last_worker;
  }
  std::printf("calls %ld, 64 chunks of %ld us on 2 workers, hardware threads %u\n", calls, chunk_us,
              std::thread::hardware_concurrency());
  std::printf("call: median %.0f us\n", percentile(call_us, 0.5));
  std::printf("hand-off (last chunk end -> caller returns): median %.1f us, p75 %.1f us, p90 %.1f us\n",
              percentile(hand_off_us, 0.5), percentile(hand_off_us, 0.75), percentile(hand_off_us, 0.9));
  const double moves = calls > 1 ? 100.0 / static_cast<double>(calls - 1) : 0.0;
  std::printf("affinity: first chunk changed worker on %.1f %% of calls, last chunk on %.1f %%\n",
              static_cast<double>(first_moved) * moves, static_cast<double>(last_moved) * moves);
  return 0;
}
