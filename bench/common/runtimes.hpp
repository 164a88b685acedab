// One taskpipe executor and one oneTBB arena per worker count, shared by every benchmark in a program, so both
// runtimes start their threads once and are compared with the same number of workers.
#pragma once

#include <oneapi/tbb/task_arena.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <thread>

#include "taskpipe/runtime/executor.hpp"

namespace taskpipe::bench {

/// The benchmarks' parallel width: the 2 cores of the reference machine.
inline constexpr std::size_t parallel_workers = 2;

/// Not thread-safe: Google Benchmark runs benchmarks one at a time.
inline executor& shared_executor(std::size_t workers = parallel_workers) {
  static std::map<std::size_t, std::unique_ptr<executor>> by_width;
  auto& ex = by_width[workers];
  if (!ex) {
    ex = std::make_unique<executor>(executor_options{.workers = workers});
  }
  return *ex;
}

inline tbb::task_arena& shared_arena(std::size_t workers = parallel_workers) {
  static std::map<std::size_t, std::unique_ptr<tbb::task_arena>> by_width;
  auto& arena = by_width[workers];
  if (!arena) {
    arena = std::make_unique<tbb::task_arena>(static_cast<int>(workers));
  }
  return *arena;
}

/// Call after a benchmark's timed loop (outside the timing): gives every runtime's idle workers time to stop spinning
/// and sleep, so that no benchmark runs beside the previous one's spinning threads. With random interleaving any
/// implementation may follow any other, and without the pause the first one after oneTBB (or after taskpipe) pays.
inline void settle_idle_workers() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

}  // namespace taskpipe::bench
