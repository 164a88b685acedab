// graph/detail/async_node.hpp — the shared state of one dependent-async task: its dependents, its join counter, its
// result, and the completion its waiters wait on (the same protocol as futures, any number of waiters).
//
// Lifetime: reference-counted by the handles, by the task that runs it, and by each dependency whose list it is on.
// Ordering: a dependent is added to a dependency's list under the dependency's spin lock, with its join counter raised
// first, so a dependency finishing at that moment either sees the dependent on its list or was already seen finished.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "taskpipe/runtime/detail/completion.hpp"
#include "taskpipe/runtime/detail/scheduler.hpp"

namespace taskpipe::detail {

class async_node {
 public:
  explicit async_node(scheduler& s) noexcept : sched_(&s) {}
  async_node(const async_node&) = delete;
  async_node& operator=(const async_node&) = delete;
  virtual ~async_node() = default;

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
    }
  }

  /// At creation, before `launch`: makes this node wait for `dep` (or inherit its failure if it already finished).
  void depend_on(async_node& dep) {
    dep.lock();
    if (dep.finished_) {
      dep.unlock();
      if (dep.error_) {
        inherit(dep.error_);
      }
      return;
    }
    try {
      dep.dependents_.push_back(this);
    } catch (...) {
      dep.unlock();
      throw;
    }
    join_.fetch_add(1, std::memory_order_relaxed);
    retain();  // held by dep's list
    dep.unlock();
  }

  /// At creation, after every depend_on: drops the creation guard, and schedules the task if nothing is pending.
  /// Throws std::bad_alloc (and the task never runs) when it cannot be scheduled.
  void launch(worker* w) {
    retain();  // held by the task that runs this node
    sched_->detached_begin();
    if (join_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      try {
        schedule(w);
      } catch (...) {  // no memory for the task: every dependency has finished, so nothing else refers to it
        sched_->detached_end();
        release();
        throw;
      }
    }
  }

  [[nodiscard]] bool is_ready() const noexcept { return done_.is_ready(); }
  [[nodiscard]] const std::exception_ptr& error() const noexcept { return error_; }

  /// Waits until the task finished (or was skipped); helps on a worker. Any number of threads may wait at once.
  void wait() noexcept { done_.wait(*sched_); }

 protected:
  /// Runs the user's callable and keeps its value or exception. Not called when a dependency failed.
  virtual void invoke() noexcept = 0;
  std::exception_ptr error_;  // the callable's own exception, or the first failed dependency's

 private:
  void lock() noexcept {
    while (lock_.exchange(true, std::memory_order_acquire)) {
      while (lock_.load(std::memory_order_relaxed)) {
      }
    }
  }
  void unlock() noexcept { lock_.store(false, std::memory_order_release); }

  void inherit(const std::exception_ptr& e) noexcept {
    if (!failed_.exchange(true, std::memory_order_acq_rel)) {
      error_ = e;
    }
  }

  void schedule(worker* w) {
    task* t = sched_->allocate_task(w);
    t->run = &run_task;
    t->owner = this;
    if (w != nullptr) {
      sched_->push_local(*w, t);
    } else {
      sched_->submit(nullptr, t);
    }
  }

  static void run_task(task& t, worker& w) noexcept {
    auto* self = static_cast<async_node*>(t.owner);
    if (!self->failed_.load(std::memory_order_acquire)) {
      self->invoke();
    }
    self->finish(w);
  }

  // Ready first, dependents second: a dependent may get() this task the moment it is scheduled, and must find it
  // ready rather than wait on it (which would also make it one more waiter, behind a worker it may be keeping busy).
  void finish(worker& w) noexcept {
    done_.complete();
    lock();
    finished_ = true;
    std::vector<async_node*> dependents = std::move(dependents_);
    unlock();
    for (async_node* d : dependents) {
      if (error_) {
        d->inherit(error_);
      }
      if (d->join_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        try {
          d->schedule(&w);
        } catch (...) {  // no task block to be had: run the dependent here rather than lose it
          task stand_in{};
          stand_in.owner = d;
          run_task(stand_in, w);
        }
      }
      d->release();
    }
    scheduler* s = sched_;
    release();  // the task's reference
    s->detached_end();
  }

  scheduler* sched_;
  std::atomic<int> refs_{1};            // the first handle
  std::atomic<std::uint32_t> join_{1};  // unfinished dependencies + the creation guard
  std::atomic<bool> failed_{false};
  std::atomic<bool> lock_{false};
  bool finished_ = false;                // guarded by lock_
  std::vector<async_node*> dependents_;  // guarded by lock_; each holds a reference
  completion done_;
};

/// Where a node's result of type `R` lives, for the handles that know `R` but not the callable.
template <class R>
class async_result : public async_node {
 public:
  using async_node::async_node;
  std::conditional_t<std::is_void_v<R>, bool, std::optional<R>> value{};
};

/// A node running a callable `F` that returns `R`.
template <class R, class F>
class async_node_of final : public async_result<R> {
 public:
  template <class Arg>
  async_node_of(scheduler& s, Arg&& f) : async_result<R>(s), f_(std::forward<Arg>(f)) {}

 private:
  void invoke() noexcept override {
    try {
      if constexpr (std::is_void_v<R>) {
        f_();
        this->value = true;
      } else {
        this->value.emplace(f_());
      }
    } catch (...) {
      this->error_ = std::current_exception();
    }
  }
  F f_;
};

}  // namespace taskpipe::detail
