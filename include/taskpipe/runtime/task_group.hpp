// taskpipe/runtime/task_group.hpp — fork-join: spawn child tasks, then wait for all of them.
//
// `spawn(f)` makes `f` runnable on the executor; `wait()` returns once every spawned task has finished. On a worker,
// `wait()` runs other tasks while it waits (its own deque first, then stolen work), so nesting of any depth never
// deadlocks, even on a one-worker executor. Off the workers, `wait()` spins briefly and then sleeps.
//
// Exceptions: the first exception thrown by a child is kept and rethrown by `wait()`; it also cancels the group.
// Cancellation: after `cancel()` (or a child's exception) children that have not started are *skipped* — they never
//   run, but are still accounted for, so `wait()` returns promptly; children already running *finish*, and can poll
//   `get_stop_token()` (or take a `stop_token` parameter) to stop early. `wait()` returns
//   `task_group_status::cancelled` if the group was cancelled without an exception. After `wait()` returns or throws,
//   the group is reset (not cancelled, no exception) and may be reused.
// Thread safety: `spawn` may be called from any thread, typically from inside the group's own tasks. `wait()` and the
//   destructor must be called by the thread that created the group. `cancel()` and `get_stop_token()` from any thread.
// Destruction: the destructor waits for unfinished children and discards their exception; call `wait()` to see it.
//
// Example:
//   int fib(taskpipe::executor& ex, int n) {
//     if (n < 2) return n;
//     int a = 0;
//     taskpipe::task_group g{ex};
//     g.spawn([&] { a = fib(ex, n - 1); });
//     int b = fib(ex, n - 2);
//     g.wait();
//     return a + b;
//   }
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include "taskpipe/runtime/detail/scheduler.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {

enum class task_group_status : std::uint8_t {
  complete,   ///< every child ran to completion
  cancelled,  ///< the group (or a parent token) was cancelled; some children may have been skipped
};

class task_group {
 public:
  explicit task_group(executor& ex) noexcept : task_group(ex, stop_token{}) {}

  /// A group that also stops when `parent` does: cancel an outer group and every chained inner group stops too.
  task_group(executor& ex, stop_token parent) noexcept
      : sched_(ex.sched_.get()),
        owner_(sched_->local_worker()),
        waker_(owner_ != nullptr ? &owner_->park : &detail::this_thread_parker()) {
    node_.parent = parent.node_;
  }

  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  ~task_group() {
    if (!done()) {
      try {
        wait();
      } catch (...) {  // NOLINT(bugprone-empty-catch): documented — the destructor discards a child's exception
      }
    }
  }

  /// Makes `f` runnable. `f` is invocable as `f()` or `f(stop_token)`; its result is discarded. Throws only what
  /// copying/moving `f` throws, or std::bad_alloc for a callable too large to store inline.
  template <class F>
  void spawn(F&& f) {
    using fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn&> || std::is_invocable_v<fn&, stop_token>,
                  "task_group::spawn: the task must be callable as f() or f(taskpipe::stop_token)");
    detail::worker* w = sched_->local_worker();
    detail::task* t = sched_->allocate_task(w);
    t->run = &run_task<fn>;
    t->owner = this;
    try {
      detail::store_callable<fn>(*t, std::forward<F>(f));
    } catch (...) {
      if (w != nullptr) {
        w->pool.release(t);
      }  // a non-worker's block stays in the depot until the executor dies
      throw;
    }
    // A push can still fail for want of memory (a deque growing, the submission queue): then the child is
    // uncounted and destroyed again, so wait() does not wait for a task that will never run.
    if (w != nullptr && w == owner_) [[likely]] {
      ++local_spawned_;
      try {
        sched_->push_local(*w, t);
      } catch (...) {
        --local_spawned_;
        unspawn<fn>(w, t);
        throw;
      }
    } else {
      remote_.fetch_add(2, std::memory_order_relaxed);
      try {
        sched_->submit(w, t);
      } catch (...) {
        remote_.fetch_sub(2, std::memory_order_relaxed);
        unspawn<fn>(w, t);
        throw;
      }
    }
  }

  /// Waits for every child; rethrows the first child exception. See the header comment for cancellation.
  task_group_status wait() {
    if (owner_ != nullptr) {
      while (!done()) {
        detail::task* t = owner_->deque.pop();
        if (t == nullptr) {
          sched_->help_until(*owner_, target());
          break;
        }
        sched_->execute(*owner_, t);
      }
    } else if (!done()) {
      sched_->block_until(target());
    }
    return finish_wait();
  }

  /// Requests cancellation: children not yet started are skipped, running ones see stop_requested().
  void cancel() noexcept { node_.stopped.store(true, std::memory_order_relaxed); }

  /// True once the group (or an ancestor it was chained to) has been cancelled.
  [[nodiscard]] bool is_cancelling() const noexcept { return node_.stop_requested(); }

  /// A token for running children to poll, or to chain inner groups to this one.
  [[nodiscard]] stop_token get_stop_token() const noexcept { return stop_token{&node_}; }

 private:
  // Outstanding children = (local_spawned_ - local_done_) + (remote_ >> 1). The local counters are touched only by the
  // owner worker, so the common case — spawned and run on the same worker — needs no atomic read-modify-write.
  // remote_ counts the rest in steps of 2; its low bit says the owner is parked and must be woken by whoever brings the
  // count to zero (the owner folds the local counters into remote_ before it parks).
  [[nodiscard]] bool done() const noexcept {
    return local_spawned_ - local_done_ + (remote_.load(std::memory_order_acquire) >> 1) == 0;
  }

  template <class F>
  static void unspawn(detail::worker* w, detail::task* t) noexcept {
    detail::destroy_callable<F>(*t);
    if (w != nullptr) {
      w->pool.release(t);
    }  // a non-worker's block stays in the depot until the executor dies
  }

  template <class F>
  static void run_task(detail::task& t, detail::worker& w) noexcept {
    auto* g = static_cast<task_group*>(t.owner);
    F& f = detail::stored_callable<F>(t);
    if (!g->node_.stop_requested()) {
      try {
        if constexpr (std::is_invocable_v<F&, stop_token>) {
          f(g->get_stop_token());
        } else {
          f();
        }
      } catch (...) {
        g->capture_exception();
      }
    }
    detail::destroy_callable<F>(t);
    g->complete_one(w);
  }

  void capture_exception() noexcept {
    if (!has_error_.exchange(true, std::memory_order_acq_rel)) {
      error_ = std::current_exception();
    }
    cancel();
  }

  void complete_one(detail::worker& w) noexcept {
    if (&w == owner_) {
      ++local_done_;
      return;
    }
    detail::parker* waker = waker_;  // read before the decrement: afterwards the group may be gone
    if (remote_.fetch_sub(2, std::memory_order_acq_rel) == 3) {
      waker->unpark();
    }
  }

  detail::wait_target target() noexcept {
    return {this, [](void* s) noexcept { return static_cast<task_group*>(s)->done(); },
            [](void* s, detail::wait_node& /*the one waiter's parker is waker_*/) noexcept {
              return static_cast<task_group*>(s)->arm();
            },
            [](void* s, detail::wait_node& /*unused*/) noexcept {
              static_cast<task_group*>(s)->remote_.fetch_and(~std::int64_t{1}, std::memory_order_acq_rel);
            }};
  }

  bool arm() noexcept {
    const std::int64_t folded = 2 * (local_spawned_ - local_done_);
    local_spawned_ = 0;
    local_done_ = 0;
    std::int64_t cur = remote_.fetch_add(folded, std::memory_order_acq_rel) + folded;
    while ((cur >> 1) != 0) {
      if (remote_.compare_exchange_weak(cur, cur | 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        return true;
      }
    }
    return false;
  }

  task_group_status finish_wait() {
    const bool cancelled = node_.stop_requested();
    if (cancelled) {
      node_.stopped.store(false, std::memory_order_relaxed);
    }
    // Every child has finished, so nothing races with these: a plain load avoids a locked instruction per wait().
    if (has_error_.load(std::memory_order_acquire)) [[unlikely]] {
      has_error_.store(false, std::memory_order_relaxed);
      std::rethrow_exception(std::exchange(error_, nullptr));
    }
    return cancelled ? task_group_status::cancelled : task_group_status::complete;
  }

  detail::scheduler* sched_;
  detail::worker* owner_;  // the creating thread's worker, or nullptr when created off the workers
  detail::parker* waker_;  // what a completing child unparks when the owner sleeps
  std::int64_t local_spawned_ = 0;
  std::int64_t local_done_ = 0;
  std::atomic<std::int64_t> remote_{0};
  detail::cancellation_node node_;
  std::atomic<bool> has_error_{false};
  std::exception_ptr error_;
};

}  // namespace taskpipe
