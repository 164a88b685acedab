// taskpipe/runtime/executor_options.hpp — how an executor is sized and how its idle workers behave.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace taskpipe {

struct executor_options {
  /// Number of worker threads; 0 means one per hardware thread. Must be at most 4096.
  std::size_t workers = 0;
  /// How long an idle worker keeps looking for work before it sleeps, and how long a thread that is not a worker
  /// (waiting in `task_group::wait()`, `future::get()`, an algorithm) checks for completion before it sleeps. Both
  /// yield the core between checks, so threads with real work on a full machine are not held up. Sleeping costs no
  /// CPU; waking costs a few microseconds or more. 0 sleeps as soon as a steal round finds nothing.
  std::chrono::microseconds spin_before_sleep{200};
};

/// What one worker has done since the executor started. Counters are updated by their worker without
/// synchronisation beyond relaxed atomics: a snapshot read while tasks run is approximate but never torn.
struct worker_stats {
  std::uint64_t tasks_run = 0;      ///< tasks this worker executed (its own and stolen ones)
  std::uint64_t steals = 0;         ///< tasks taken from another worker's deque or the submission queue
  std::uint64_t failed_steals = 0;  ///< steal attempts that found an empty deque or lost a race
  std::uint64_t sleeps = 0;         ///< times the worker went to sleep after spinning without work
};

}  // namespace taskpipe
