// taskpipe/graph/dependent_async.hpp — tasks that start when other tasks have finished, building a DAG while it runs.
//
// `ex.dependent_async(f, a, b)` runs `f()` once the tasks behind the handles `a` and `b` have finished, and returns
// a handle that later calls may depend on. Dependencies may be given one by one (any `async_task<T>`) or as a span of
// `async_dependency` for a count known only at run time. A task with no dependencies starts at once.
//
// Thread safety: `dependent_async` may be called from any thread, also from inside tasks; handles are copyable and
//   may be shared. Any number of threads may `wait()` / `get()` on the same task at once; `is_ready()` from anywhere.
//   A task is ready before any of its dependents starts, so a dependent's `get()` on it returns at once.
// Exceptions: an exception thrown by `f` is rethrown by `get()`. A task whose dependency failed does not run (it is
//   skipped, like a cancelled child of a task_group) and carries that dependency's exception, so a failure reaches
//   every task downstream of it.
// Waiting: on a worker `wait()`/`get()` help run other tasks; elsewhere they sleep. The executor's destructor waits
//   for every dependent-async task.
//
// Example:
//   auto a = ex.dependent_async([] { return load(); });
//   auto b = ex.dependent_async([] { prepare(); });
//   auto c = ex.dependent_async([&] { use(a.get(), ...); }, a, b);   // a.get() does not wait: a has finished
//   c.wait();
#pragma once

#include <exception>
#include <span>
#include <type_traits>
#include <utility>

#include "taskpipe/error.hpp"
#include "taskpipe/graph/detail/async_node.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace taskpipe {

/// A type-erased, shared handle to a dependent-async task of any result type: something to depend on.
class async_dependency {
 public:
  async_dependency() noexcept = default;
  async_dependency(const async_dependency& o) noexcept : node_(o.node_) {
    if (node_ != nullptr) {
      node_->retain();
    }
  }
  async_dependency(async_dependency&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  async_dependency& operator=(async_dependency o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~async_dependency() {
    if (node_ != nullptr) {
      node_->release();
    }
  }

  [[nodiscard]] bool valid() const noexcept { return node_ != nullptr; }
  /// True once the task finished or was skipped. Never blocks.
  [[nodiscard]] bool is_ready() const noexcept { return node_ != nullptr && node_->is_ready(); }
  /// Waits for the task (helping on a worker); does not rethrow. Throws taskpipe::error on an empty handle.
  void wait() const {
    require_valid();
    node_->wait();
  }

 protected:
  explicit async_dependency(detail::async_node* n) noexcept : node_(n) {}
  void require_valid() const {
    if (node_ == nullptr) {
      throw error("taskpipe::async_task: empty handle (default-constructed or moved from)");
    }
  }

  detail::async_node* node_ = nullptr;

 private:
  friend class executor;
};

/// The handle `dependent_async` returns: a dependency for later tasks and the way to the result.
template <class T>
class async_task : public async_dependency {
 public:
  async_task() noexcept = default;

  /// Waits, then returns the result (a reference into the shared state) or rethrows the task's exception, or that
  /// of the dependency that made it skip.
  decltype(auto) get() const {
    wait();
    if (node_->error()) {
      std::rethrow_exception(node_->error());
    }
    if constexpr (!std::is_void_v<T>) {
      return static_cast<const T&>(*static_cast<detail::async_result<T>*>(node_)->value);
    }
  }

 private:
  friend class executor;
  explicit async_task(detail::async_node* n) noexcept : async_dependency(n) {}
};

template <class F, class... Deps>
requires(std::is_base_of_v<async_dependency, Deps>&&...) auto executor::dependent_async(F&& f, const Deps&... deps)
    -> async_task<std::invoke_result_t<std::decay_t<F>&>> {
  const async_dependency list[] = {async_dependency{}, deps...};  // a leading empty entry allows zero dependencies
  return dependent_async(std::forward<F>(f), std::span<const async_dependency>{list}.subspan(1));
}

template <class F>
auto executor::dependent_async(F&& f, std::span<const async_dependency> deps)
    -> async_task<std::invoke_result_t<std::decay_t<F>&>> {
  using fn = std::decay_t<F>;
  using result = std::invoke_result_t<fn&>;
  auto* node = new detail::async_node_of<result, fn>(*sched_, std::forward<F>(f));
  async_task<result> handle{node};  // owns the first reference from here on
  for (const async_dependency& d : deps) {
    d.require_valid();
    node->depend_on(*d.node_);
  }
  node->launch(sched_->local_worker());
  return handle;
}

}  // namespace taskpipe
