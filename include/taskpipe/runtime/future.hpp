// taskpipe/runtime/future.hpp — the result of `executor::async`.
//
// `get()` waits for the task and returns its value or rethrows its exception. Called on one of the executor's
// workers it *helps*: it runs other tasks while it waits, so a task may wait for another task's future without
// deadlock however deep the nesting. Called from any other thread it spins briefly, then sleeps.
//
// Thread safety: one future, one consumer: `get()` may be called once (then `valid()` is false). `is_ready()` may be
// polled from any thread. Dropping a future does not wait for the task; the executor's destructor does.
#pragma once

#include <atomic>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "taskpipe/error.hpp"
#include "taskpipe/runtime/detail/completion.hpp"
#include "taskpipe/runtime/detail/scheduler.hpp"

namespace taskpipe {

namespace detail {

template <class T>
struct future_state {
  explicit future_state(scheduler& s) noexcept : sched(&s) {}

  scheduler* sched;
  std::atomic<int> refs{2};  // the future and the task
  completion done;
  std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
  std::exception_ptr error;

  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
    }
  }

  void complete() noexcept { done.complete(); }
  [[nodiscard]] bool is_ready() const noexcept { return done.is_ready(); }
  void wait() noexcept { done.wait(*sched); }
};

}  // namespace detail

template <class T>
class future {
 public:
  /// An empty future (valid() is false).
  future() noexcept = default;
  future(future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  future& operator=(future&& other) noexcept {
    if (this != &other) {
      reset();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  future(const future&) = delete;
  future& operator=(const future&) = delete;
  ~future() { reset(); }

  /// True until get() has been called.
  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }

  /// True once the task has finished (normally or by throwing). Never blocks.
  [[nodiscard]] bool is_ready() const noexcept { return state_ != nullptr && state_->is_ready(); }

  /// Waits without consuming the result. Helps run other tasks when called on a worker.
  void wait() const {
    require_valid();
    state_->wait();
  }

  /// Waits, then returns the task's value or rethrows its exception. Throws taskpipe::error on an empty future.
  T get() {
    require_valid();
    state_->wait();
    detail::future_state<T>* s = std::exchange(state_, nullptr);
    struct releaser {
      detail::future_state<T>* s;
      ~releaser() { s->release(); }
    } guard{s};
    if (s->error) {
      std::rethrow_exception(s->error);
    }
    if constexpr (!std::is_void_v<T>) {
      return std::move(*s->value);
    }
  }

 private:
  friend class executor;
  explicit future(detail::future_state<T>* s) noexcept : state_(s) {}

  void require_valid() const {
    if (state_ == nullptr) {
      throw error("taskpipe::future: no state (default-constructed, moved from, or get() already called)");
    }
  }
  void reset() noexcept {
    if (state_ != nullptr) {
      std::exchange(state_, nullptr)->release();
    }
  }

  detail::future_state<T>* state_ = nullptr;
};

}  // namespace taskpipe
