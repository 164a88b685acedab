// detail/chase_lev_deque.hpp — the per-worker work-stealing deque.
//
// The Chase-Lev deque in the formulation of Lê, Pop, Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing
// for Weak Memory Models" (PPoPP 2013). One owner thread pushes and pops at the bottom (LIFO); any thread steals at
// the top (FIFO). Lock-free; the owner's operations take no lock and allocate only when the ring grows.
//
// Thread safety: push/pop from the owner thread only; steal/empty from any thread.
// Memory ordering: a value pushed is published with release semantics on `bottom`, so a thief that steals it sees
// everything the owner wrote before the push. Grown rings are kept until the deque dies, because a thief may still be
// reading the old one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace taskpipe::detail {

/// The result of a steal: the item, or why there is none. Losing a race is not the same as finding nothing: a thief
/// that lost should try again, one that found an empty deque should look elsewhere.
enum class steal_outcome : std::uint8_t { success, empty, lost_race };

template <class T>
struct steal_result {
  T item{};
  steal_outcome outcome = steal_outcome::empty;
};

template <class T>
class chase_lev_deque {
  static_assert(std::is_pointer_v<T>, "the deque holds pointers to tasks");

 public:
  explicit chase_lev_deque(std::int64_t initial_capacity = 256) {
    rings_.push_back(std::make_unique<ring>(initial_capacity));
    ring_.store(rings_.back().get(), std::memory_order_relaxed);
  }
  chase_lev_deque(const chase_lev_deque&) = delete;
  chase_lev_deque& operator=(const chase_lev_deque&) = delete;

  /// Owner only. Never fails: the ring doubles when full.
  void push(T item) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    ring* r = ring_.load(std::memory_order_relaxed);
    // top only grows, so a stale copy over-estimates the size: re-read the line thieves write only when the ring
    // looks full.
    if (b - top_cache_ > r->capacity - 1) {
      top_cache_ = top_.load(std::memory_order_acquire);
      if (b - top_cache_ > r->capacity - 1) {
        r = grow(r, top_cache_, b);
      }
    }
    r->put(b, item);
    bottom_.store(b + 1, std::memory_order_release);
  }

  /// Owner only. The most recently pushed item, or nullptr when the deque is empty or a thief took the last one.
  T pop() {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    ring* r = ring_.load(std::memory_order_relaxed);
    // The store of bottom must be ordered before the load of top (StoreLoad); a seq_cst exchange is one locked
    // instruction on x86, cheaper than a separate fence.
    bottom_.exchange(b, std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    if (t > b) {
      bottom_.store(b + 1, std::memory_order_release);
      return nullptr;
    }
    T item = r->get(b);
    if (t == b) {  // the last item: race the thieves for it
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        item = nullptr;
      }
      bottom_.store(b + 1, std::memory_order_release);
    }
    return item;
  }

  /// Any thread. Takes the oldest item.
  steal_result<T> steal() {
    // seq_cst loads rather than a fence between them: the same order on every C++ implementation, free on x86,
    // and visible to ThreadSanitizer (which does not model fences).
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
    if (t >= b) {
      return {nullptr, steal_outcome::empty};
    }
    ring* r = ring_.load(std::memory_order_acquire);
    T item = r->get(t);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
      return {nullptr, steal_outcome::lost_race};
    }
    return {item, steal_outcome::success};
  }

  /// Any thread. A snapshot that may be stale by the time it returns.
  [[nodiscard]] bool empty() const noexcept {
    return bottom_.load(std::memory_order_acquire) <= top_.load(std::memory_order_acquire);
  }

 private:
  struct ring {
    explicit ring(std::int64_t cap)
        : capacity(cap), mask(cap - 1), slots(std::make_unique<std::atomic<T>[]>(static_cast<std::size_t>(cap))) {}
    void put(std::int64_t i, T v) noexcept {
      slots[static_cast<std::size_t>(i & mask)].store(v, std::memory_order_relaxed);
    }
    T get(std::int64_t i) const noexcept {
      return slots[static_cast<std::size_t>(i & mask)].load(std::memory_order_relaxed);
    }
    std::int64_t capacity;
    std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  ring* grow(ring* old, std::int64_t t, std::int64_t b) {
    auto bigger = std::make_unique<ring>(old->capacity * 2);
    for (std::int64_t i = t; i < b; ++i) {
      bigger->put(i, old->get(i));
    }
    ring* r = bigger.get();
    rings_.push_back(std::move(bigger));
    ring_.store(r, std::memory_order_release);
    return r;
  }

  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  alignas(64) std::atomic<ring*> ring_{nullptr};
  std::int64_t top_cache_ = 0;                // owner only; a lower bound of top_
  std::vector<std::unique_ptr<ring>> rings_;  // owner only; every ring ever used, freed with the deque
};

}  // namespace taskpipe::detail
