// detail/completion.hpp — a one-shot "finished" flag that any number of threads may wait on at once: the waiter
// protocol behind `future` and dependent-async tasks (one protocol, so a fix to it reaches both).
//
// Cost: `complete()` is one atomic read-modify-write when nobody waits, `is_ready()` one acquire load; only waiting
// takes the spin bit.
// Waiting: a waiter links a `wait_node` that lives on its own stack into a list guarded by a spin bit kept in the
// same word as the ready bit, then parks. `complete()` sets the ready bit first; if the list is non-empty or being
// changed at that moment it takes the spin bit and unparks every waiter while holding it. `disarm` takes the spin bit
// too, so once it returns the completer no longer touches the node and the waiter may leave.
// Ordering: the ready bit is set with release and read with acquire: whatever the completer wrote before
// `complete()` is visible to a thread that sees `is_ready()`.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "taskpipe/runtime/detail/parker.hpp"
#include "taskpipe/runtime/detail/scheduler.hpp"

namespace taskpipe::detail {

class completion {
 public:
  [[nodiscard]] bool is_ready() const noexcept { return (word_.load(std::memory_order_acquire) & ready_bit) != 0; }

  /// Marks the flag ready and wakes every waiter. Called once.
  void complete() noexcept {
    const std::uintptr_t old = word_.fetch_or(ready_bit, std::memory_order_acq_rel);
    if ((old & (lock_bit | waiters_bit)) == 0) [[likely]] {
      return;
    }
    lock();
    for (wait_node* n = head_; n != nullptr;) {
      wait_node* next = n->next;
      n->linked = false;
      n->waiter->unpark();  // under the spin bit: the waiter's disarm() waits for it, so the node is still alive
      n = next;
    }
    head_ = nullptr;
    unlock();
  }

  /// Waits until ready: helps on a worker of `s`, sleeps elsewhere.
  void wait(scheduler& s) noexcept {
    if (!is_ready()) {
      s.wait_until(target());
    }
  }

  [[nodiscard]] wait_target target() noexcept {
    return {this, [](void* c) noexcept { return static_cast<completion*>(c)->is_ready(); },
            [](void* c, wait_node& n) noexcept { return static_cast<completion*>(c)->arm(n); },
            [](void* c, wait_node& n) noexcept { static_cast<completion*>(c)->disarm(n); }};
  }

 private:
  static constexpr std::uintptr_t ready_bit = 1;
  static constexpr std::uintptr_t lock_bit = 2;
  static constexpr std::uintptr_t waiters_bit = 4;

  bool arm(wait_node& n) noexcept {
    lock();
    // Acquire, although the spin bit is held: the completer sets the ready bit without the spin bit, so a waiter that
    // sees it here and leaves must synchronise with that store itself, or the result it reads next would race.
    const bool ready = (word_.load(std::memory_order_acquire) & ready_bit) != 0;
    if (!ready) {
      n.prev = nullptr;
      n.next = head_;
      if (head_ != nullptr) {
        head_->prev = &n;
      }
      head_ = &n;
      n.linked = true;
    }
    unlock();
    return !ready;
  }

  void disarm(wait_node& n) noexcept {
    lock();
    if (n.linked) {
      (n.prev != nullptr ? n.prev->next : head_) = n.next;
      if (n.next != nullptr) {
        n.next->prev = n.prev;
      }
      n.linked = false;
    }
    unlock();
  }

  void lock() noexcept {
    for (unsigned spins = 0;; ++spins) {
      std::uintptr_t w = word_.load(std::memory_order_relaxed);
      if ((w & lock_bit) == 0 &&
          word_.compare_exchange_weak(w, w | lock_bit, std::memory_order_acquire, std::memory_order_relaxed)) {
        return;
      }
      if (spins >= 64) {
        std::this_thread::yield();  // the holder may be preempted: the idle path must not burn its core
      }
    }
  }

  void unlock() noexcept {
    std::uintptr_t w = word_.load(std::memory_order_relaxed);
    const std::uintptr_t waiting = head_ != nullptr ? waiters_bit : 0;
    while (!word_.compare_exchange_weak(w, (w & ready_bit) | waiting, std::memory_order_release,
                                        std::memory_order_relaxed)) {
    }
  }

  std::atomic<std::uintptr_t> word_{0};
  wait_node* head_ = nullptr;  // guarded by lock_bit
};

}  // namespace taskpipe::detail
