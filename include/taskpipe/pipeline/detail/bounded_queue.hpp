// detail/bounded_queue.hpp — a bounded lock-free multi-producer multi-consumer queue with a blocking pop, for the
// pinned strategy.
//
// The ring is the classic sequence-numbered cell design: each cell carries a sequence number that tells producers
// and consumers whose turn it is, so push and pop are one CAS on their index in the common case. Blocking is layered
// on top: a consumer that finds the queue empty spins, then yields until its spin time is up (the executor's
// spin_before_sleep), then sleeps on an epoch counter (C++20 atomic wait). Producers pay for a wake-up only when a
// consumer has announced itself as sleeping; a seq_cst read-modify-write of the sleeper count on both sides guarantees
// a sleeper is either seen or sees the item.
//
// Batching: `push_quiet()` publishes an item without the wake-up check, and `notify()` does the check once for every
// item pushed quietly before it; a producer that pushes several items quietly and then notifies pays for one
// wake-up instead of one per item. A quiet push must be followed by notify() before the producer blocks or exits.
//
// Doorbell: a thread that serves several queues (the pinned strategy's helping threads, see pinned_engine.cpp) sleeps
// on one `doorbell` that every queue attached to it rings after a push, a close or a wake_all(), with the same
// sleeper-count handshake as the queue's own sleep.
//
// The pinned strategy sizes every queue to hold all tokens, so a push never finds the queue full.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "taskpipe/runtime/detail/cpu_relax.hpp"

namespace taskpipe::detail {

enum class pop_result : std::uint8_t { item, closed, woken };

/// One wake-up channel for a thread that waits on several queues. Usage: `const auto e = arm();`, check every queue
/// (a try_pop on each), then `sleep(e)` if nothing was found, `disarm()` either way.
class doorbell {
 public:
  [[nodiscard]] std::uint32_t arm() noexcept {
    const std::uint32_t e = epoch_.load(std::memory_order_acquire);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    return e;
  }
  void sleep(std::uint32_t armed_at) noexcept { epoch_.wait(armed_at, std::memory_order_acquire); }
  void disarm() noexcept { sleepers_.fetch_sub(1, std::memory_order_relaxed); }
  /// After a push: wakes the sleepers, if any (a read-modify-write, ordered against arm() as in bounded_queue).
  void notify() noexcept {
    if (sleepers_.fetch_add(0, std::memory_order_seq_cst) != 0) {
      ring();
    }
  }
  void ring() noexcept {
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
  }

 private:
  alignas(64) std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> sleepers_{0};
};

template <class T>
class bounded_queue {
 public:
  explicit bounded_queue(std::size_t min_capacity) {
    std::size_t cap = 2;
    while (cap < min_capacity) {
      cap *= 2;
    }
    mask_ = cap - 1;
    cells_ = std::make_unique<cell[]>(cap);
    for (std::size_t i = 0; i < cap; ++i) {
      cells_[i].seq.store(i, std::memory_order_relaxed);
    }
  }

  /// Never blocks; false when full.
  bool try_push(T v) noexcept {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = v;
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  bool try_pop(T& out) noexcept {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          out = c.value;
          c.seq.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  /// Pushes, yielding while full (never the case when sized for every token), and wakes a sleeping consumer.
  void push(T v) noexcept {
    push_quiet(v);
    notify();
  }

  /// Pushes like push() but leaves waking a consumer to a later notify().
  void push_quiet(T v) noexcept {
    while (!try_push(v)) {
      std::this_thread::yield();
    }
  }

  /// From now on every push, close and wake_all also rings `bell`. Call before any other thread uses the queue.
  void attach(doorbell* bell) noexcept { bell_ = bell; }

  [[nodiscard]] bool is_closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  /// Exact once no push is in progress (after close(), when every producer has finished).
  [[nodiscard]] bool is_empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

  /// Items claimed by pushes and not yet by pops, read without synchronising with either: a hint, exact when quiet.
  [[nodiscard]] std::size_t approx_size() const noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    return tail > head ? tail - head : 0;
  }

  /// Wakes the consumers if one is sleeping: call after quiet pushes.
  void notify() noexcept {
    if (bell_ != nullptr) {
      bell_->notify();
    }
    // A read-modify-write rather than a fence + load (ThreadSanitizer does not model fences): either it is ordered
    // before a consumer's registration in pop(), whose try_pop then sees the item, or it sees that consumer.
    if (sleepers_.fetch_add(0, std::memory_order_seq_cst) != 0) {
      wake_all();
    }
  }

  /// Waits for an item. Returns `closed` once the queue is closed and empty, `woken` after `wake_all()` without an
  /// item (the caller re-checks its own conditions and calls again). A caller that gives up on a condition passes its
  /// flag as `give_up`: it is checked after the wake-up count is read, so a `wake_all()` that follows setting the flag
  /// cannot be missed (checking it only between calls could: the flag read false, then set and the wake-up sent
  /// before this call reads the count, and the sleep would never end).
  /// `spin`: how long to look (pausing, then yielding the core at every look) before sleeping; a wake-up costs far
  /// more than the gap between items of a busy chain.
  pop_result pop(T& out, std::chrono::nanoseconds spin, const std::atomic<bool>* give_up = nullptr) noexcept {
    std::chrono::steady_clock::time_point deadline{};
    for (int round = 0;; ++round) {
      if (try_pop(out)) {
        return pop_result::item;
      }
      if (closed_.load(std::memory_order_acquire)) {
        return try_pop(out) ? pop_result::item : pop_result::closed;
      }
      if (round == 0) {
        deadline = std::chrono::steady_clock::now() + spin;
      }
      if (round < 8) {
        for (int i = 0; i < 16; ++i) {
          cpu_relax();
        }
      } else if (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      } else {
        const std::uint32_t e = epoch_.load(std::memory_order_acquire);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        if (try_pop(out)) {
          sleepers_.fetch_sub(1, std::memory_order_relaxed);
          return pop_result::item;
        }
        if (give_up != nullptr && give_up->load(std::memory_order_acquire)) {
          sleepers_.fetch_sub(1, std::memory_order_relaxed);
          return pop_result::woken;
        }
        if (!closed_.load(std::memory_order_acquire)) {
          epoch_.wait(e, std::memory_order_acquire);
        }
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        return try_pop(out) ? pop_result::item : pop_result::woken;
      }
    }
  }

  /// No more pushes will come; wakes every consumer.
  void close() noexcept {
    closed_.store(true, std::memory_order_release);
    wake_all();
  }

  void wake_all() noexcept {
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
    if (bell_ != nullptr) {
      bell_->ring();
    }
  }

 private:
  struct alignas(64) cell {
    std::atomic<std::size_t> seq{0};
    T value{};
  };

  std::unique_ptr<cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(64) std::atomic<std::size_t> tail_{0};
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<bool> closed_{false};
  doorbell* bell_ = nullptr;
};

}  // namespace taskpipe::detail
