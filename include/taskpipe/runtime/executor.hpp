// taskpipe/runtime/executor.hpp — the work-stealing executor every other part of taskpipe runs on.
//
// An executor owns N worker threads, each with a lock-free Chase-Lev deque. A worker runs its own newest task first
// (LIFO, cache-warm) and, when it has none, steals the oldest task of a randomly chosen victim. Idle workers spin for
// `executor_options::spin_before_sleep`, then sleep without using CPU, and are woken when work arrives. Spawning
// from a worker allocates nothing from the heap on the hot path (task blocks come from a per-worker pool).
//
// Thread safety: every member may be called from any thread, including from inside tasks.
// Exceptions: a task's exception reaches whoever waits for it (`task_group::wait`, `future::get`); the executor never
//   swallows one silently. The constructor throws `taskpipe::invalid_argument` for a bad worker count.
// Destruction: the destructor waits until every task started with `async` has finished (their futures need not be
//   alive), then stops and joins the workers. Task groups are joined by their own `wait()` or destructor, which must
//   run before the executor dies. Destroying an executor from one of its own workers is not allowed.
//
// Example:
//   taskpipe::executor ex{{.workers = 4}};
//   auto answer = ex.async([] { return 6 * 7; });
//   int v = answer.get();   // 42
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "taskpipe/runtime/detail/scheduler.hpp"
#include "taskpipe/runtime/executor_options.hpp"
#include "taskpipe/runtime/future.hpp"

namespace taskpipe {

class task_group;
class graph;
template <class T>
class async_task;
class async_dependency;

class executor {
 public:
  /// Starts the workers. Throws taskpipe::invalid_argument if options.workers is out of range.
  explicit executor(executor_options options = {});
  ~executor();
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;
  executor(executor&&) = delete;
  executor& operator=(executor&&) = delete;

  /// Number of worker threads.
  [[nodiscard]] std::size_t num_workers() const noexcept;

  /// How long an idle worker looks for work before it sleeps (executor_options::spin_before_sleep). Threads that
  /// wait alongside the workers, such as the pinned strategy's, wait as long.
  [[nodiscard]] std::chrono::microseconds spin_before_sleep() const noexcept;

  /// The calling thread's worker index in this executor, or nullopt when the caller is not one of its workers.
  [[nodiscard]] std::optional<std::size_t> this_worker_index() const noexcept;

  /// A snapshot of every worker's counters, indexed by worker.
  [[nodiscard]] std::vector<worker_stats> stats() const;

  /// Runs `f()` on a worker and returns a future for its result. From a worker the task goes to that worker's own
  /// deque; from any other thread to a shared submission queue. Exceptions thrown by `f` are rethrown by `get()`.
  template <class F>
  auto async(F&& f) -> future<std::invoke_result_t<std::decay_t<F>&>> {
    using fn = std::decay_t<F>;
    using result = std::invoke_result_t<fn&>;
    std::unique_ptr<detail::future_state<result>> state{new detail::future_state<result>(*sched_)};
    detail::worker* w = sched_->local_worker();
    detail::task* t = sched_->allocate_task(w);
    t->run = &run_async<fn, result>;
    t->owner = state.get();
    try {
      detail::store_callable<fn>(*t, std::forward<F>(f));
    } catch (...) {
      if (w != nullptr) {
        w->pool.release(t);
      }  // a non-worker's block stays in the depot until the executor dies
      throw;
    }
    // Counted before the push, so the destructor cannot miss a task that is already running; uncounted again when
    // the push fails for want of memory, so the destructor does not wait for a task that will never run.
    sched_->detached_begin();
    try {
      sched_->submit(w, t);
    } catch (...) {
      sched_->detached_end();
      detail::destroy_callable<fn>(*t);
      if (w != nullptr) {
        w->pool.release(t);
      }
      throw;
    }
    return future<result>(state.release());
  }

  // Graphs (defined by the graph layer, include "taskpipe/graph/graph.hpp"). A graph runs once (`run`), `n` times in
  // a row (`run_n`), or again and again until `stop()` returns true, checked before every run (`run_until`). The
  // future becomes ready when the last run finished; it rethrows the first exception of a task, or a taskpipe::error
  // naming the tasks of a cycle. Throws taskpipe::error at once if `g` is already running.
  future<void> run(graph& g);
  future<void> run_n(graph& g, std::size_t n);
  future<void> run_until(graph& g, std::function<bool()> stop);

  // Dependent async (defined in "taskpipe/graph/dependent_async.hpp"): runs `f()` once every dependency finished.
  // The returned handle can itself be a dependency of later calls, so a DAG can be built while it already runs.
  template <class F, class... Deps>
  requires(std::is_base_of_v<async_dependency, Deps>&&...) auto dependent_async(F&& f, const Deps&... deps)
      -> async_task<std::invoke_result_t<std::decay_t<F>&>>;
  template <class F>
  auto dependent_async(F&& f, std::span<const async_dependency> deps)
      -> async_task<std::invoke_result_t<std::decay_t<F>&>>;

 private:
  friend class task_group;

  template <class F, class R>
  static void run_async(detail::task& t, detail::worker& /*w*/) noexcept {
    auto* state = static_cast<detail::future_state<R>*>(t.owner);
    F& f = detail::stored_callable<F>(t);
    try {
      if constexpr (std::is_void_v<R>) {
        f();
        state->value = true;
      } else {
        state->value.emplace(f());
      }
    } catch (...) {
      state->error = std::current_exception();
    }
    detail::destroy_callable<F>(t);
    detail::scheduler* s = state->sched;
    state->complete();
    state->release();
    s->detached_end();
  }

  std::unique_ptr<detail::scheduler> sched_;
};

}  // namespace taskpipe
