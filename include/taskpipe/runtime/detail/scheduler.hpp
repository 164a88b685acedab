// detail/scheduler.hpp — the machinery behind `executor`: workers, stealing, sleeping, submission.
//
// The hot paths (a worker pushing to and popping from its own deque, allocating a task block) are inline here; the
// idle path (stealing rounds, spinning, sleeping, waking) lives in scheduler.cpp.
//
// Sleeping and waking. An idle worker registers itself in the sleeper list and parks only if no submission happened
// since its last search (a seq_cst epoch counter). Code that makes work visible from outside a worker's own deque
// (submission, async) bumps the epoch and then reads the sleeper count, so such work always wakes a sleeper. A worker
// spawning into its *own* deque reads the sleeper count without a fence: on the rare interleaving where that read
// misses a worker that is just going to sleep, the task is not lost — the spawner itself pops it at its next wait —
// only the chance to run it in parallel is. Paying a full fence on every spawn to close that window would cost more
// than it gains.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "taskpipe/runtime/detail/chase_lev_deque.hpp"
#include "taskpipe/runtime/detail/parker.hpp"
#include "taskpipe/runtime/detail/task.hpp"
#include "taskpipe/runtime/detail/task_pool.hpp"
#include "taskpipe/runtime/executor_options.hpp"

namespace taskpipe::detail {

class scheduler;

/// Counters written by their worker only, readable from anywhere.
struct worker_counters {
  std::atomic<std::uint64_t> tasks_run{0};
  std::atomic<std::uint64_t> steals{0};
  std::atomic<std::uint64_t> failed_steals{0};
  std::atomic<std::uint64_t> sleeps{0};

  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

struct alignas(64) worker {
  worker(scheduler& s, std::size_t i, task_depot& depot)
      : sched(&s), index(i), pool(depot), rng(0x9e3779b97f4a7c15ULL * (i + 1)) {}

  scheduler* sched;
  std::size_t index;
  chase_lev_deque<task*> deque;
  task_pool pool;
  parker park;
  std::uint64_t rng;
  worker_counters counters;
};

/// The worker the calling thread is, or nullptr for any other thread.
inline thread_local worker* tls_worker = nullptr;

/// Something a thread can wait for: a task group, a future, a dependent-async task. `arm` registers the waiter's
/// node (and through it its parker) to be unparked on completion and returns false if the target is already done;
/// `disarm` withdraws an armed registration, after which the target no longer touches the node. A wake-up may be
/// spurious: waiters check `done` again.
struct wait_target {
  void* self;
  bool (*done)(void* self) noexcept;
  bool (*arm)(void* self, wait_node& waiter) noexcept;
  void (*disarm)(void* self, wait_node& waiter) noexcept;
};

class scheduler {
 public:
  explicit scheduler(const executor_options& options);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  /// The calling thread's worker if it belongs to this scheduler.
  [[nodiscard]] worker* local_worker() const noexcept {
    worker* w = tls_worker;
    return (w != nullptr && w->sched == this) ? w : nullptr;
  }

  task* allocate_task(worker* w) { return w != nullptr ? w->pool.allocate() : depot_.take_one(); }

  /// A spawn from a worker into its own deque (see the header comment on the missing fence).
  void push_local(worker& w, task* t) {
    w.deque.push(t);
    if (sleepers_.load(std::memory_order_relaxed) != 0) [[unlikely]] {
      wake_one();
    }
  }

  /// Makes a task runnable from any thread, and always wakes a sleeper if there is one.
  void submit(worker* w, task* t);

  void execute(worker& w, task* t) noexcept {
    worker_counters::bump(w.counters.tasks_run);
    t->run(*t, w);
    w.pool.release(t);
  }

  /// On a worker: runs tasks (its own first, then stolen ones) until the target is done.
  void help_until(worker& w, const wait_target& target) noexcept;
  /// Off the workers: spins about a microsecond, yields the core between checks for up to `spin_before_sleep`, then
  /// sleeps until the target is done.
  void block_until(const wait_target& target) const noexcept;
  /// From any thread: helps on a worker of this scheduler, blocks elsewhere.
  void wait_until(const wait_target& target) noexcept {
    if (worker* w = local_worker()) {
      help_until(*w, target);
    } else {
      block_until(target);
    }
  }

  /// Work that nobody joins (async tasks): the destructor waits for it.
  void detached_begin() noexcept { detached_.fetch_add(1, std::memory_order_relaxed); }
  void detached_end() noexcept;

  [[nodiscard]] std::size_t worker_count() const noexcept { return workers_.size(); }
  [[nodiscard]] const executor_options& options() const noexcept { return options_; }
  [[nodiscard]] const worker& worker_at(std::size_t i) const noexcept { return *workers_[i]; }

 private:
  void worker_main(worker& w) noexcept;
  task* find_work(worker& w, const wait_target* target) noexcept;
  task* steal_round(worker& w) noexcept;
  task* take_submitted() noexcept;
  [[nodiscard]] bool work_visible() const noexcept;
  void wake_one() noexcept;
  void wake_all() noexcept;
  void sleep(worker& w, const wait_target* target, std::uint64_t searched_epoch) noexcept;

  executor_options options_;
  task_depot depot_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<std::thread> threads_;

  alignas(64) std::atomic<std::size_t> sleepers_{0};
  std::atomic<std::uint64_t> publish_epoch_{0};  // bumped by every submit(); see sleep()
  std::mutex sleepers_mutex_;
  std::vector<worker*> sleeping_;

  alignas(64) std::atomic<std::size_t> submitted_count_{0};
  std::mutex submitted_mutex_;
  std::deque<task*> submitted_;

  alignas(64) std::atomic<std::size_t> detached_{0};
  std::mutex detached_mutex_;
  std::condition_variable detached_done_;

  std::atomic<bool> stopping_{false};
};

}  // namespace taskpipe::detail
