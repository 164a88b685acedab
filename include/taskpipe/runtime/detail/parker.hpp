// detail/parker.hpp — a one-permit sleep slot for one thread.
//
// `park()` blocks until a permit is available and consumes it; `unpark()` makes one available (permits do not
// accumulate). A mutex and condition variable rather than a bare futex, deliberately: `unpark()` finishes touching the
// parker before the parked thread can return from `park()`, so a waiter may destroy whatever it was waiting on as soon
// as `park()` returns. Only the idle path uses it; the hot path never parks.
#pragma once

#include <condition_variable>
#include <mutex>

namespace taskpipe::detail {

class parker {
 public:
  void park() {
    std::unique_lock lock{mutex_};
    wakeup_.wait(lock, [this] { return permit_; });
    permit_ = false;
  }

  void unpark() {
    const std::lock_guard lock{mutex_};
    permit_ = true;
    wakeup_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool permit_ = false;
};

/// One waiting thread's entry in a target's list of waiters (see completion.hpp); lives on the waiter's stack between
/// its `arm` and `disarm`.
struct wait_node {
  explicit wait_node(parker& p) noexcept : waiter(&p) {}
  parker* waiter;
  wait_node* prev = nullptr;
  wait_node* next = nullptr;
  bool linked = false;
};

/// The parker of the calling thread, for threads that are not workers (they block instead of helping).
parker& this_thread_parker() noexcept;

}  // namespace taskpipe::detail
