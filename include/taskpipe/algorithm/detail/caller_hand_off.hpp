// algorithm/detail/caller_hand_off.hpp — how an algorithm called off the executor's workers hands its work to a
// worker and gets it back (on_worker), and how the caller is woken before the work ends rather than after.
//
// The caller submits one task that runs the whole algorithm on a worker, then waits: it yields its core for up to
// `caller_spin`, then sleeps. Waking a sleeping thread takes from a few microseconds to ~100 µs (an idle core in a
// deep power state, a virtual machine's wake-up interrupt), and a wake-up sent when the last chunk finishes puts that
// whole latency after the work, on every call. So the algorithm calls `finishing()` when only its last few chunks
// are left: the caller wakes while they run and waits for the end awake. That only pays where the caller has a core
// of its own (more hardware threads than workers): on a machine the workers fill, an awake caller competes with them
// for the cores and, measured on 2 cores, returns no sooner (about 10 µs after the last chunk either way) and later in
// the slow tail. There the caller is woken at the end only. A call that ends within the caller's spin never sleeps.
//
// Thread safety: `finishing()` from any thread, any number of times; `await()` by the caller only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "taskpipe/runtime/detail/parker.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::detail {

class caller_hand_off {
 public:
  /// How long the caller yields before it sleeps: the executor's default `spin_before_sleep`.
  static constexpr std::chrono::microseconds caller_spin{200};

  /// A disabled hand-off: the caller is a worker, waits by helping, and needs no wake-up.
  caller_hand_off() noexcept = default;
  /// `early`: whether finishing() wakes the caller before the end (see the header).
  caller_hand_off(parker& caller, bool early) noexcept : caller_(&caller), early_(early) {}
  caller_hand_off(const caller_hand_off&) = delete;
  caller_hand_off& operator=(const caller_hand_off&) = delete;

  /// Whether finishing() wakes anyone (else nobody need count chunks for it).
  [[nodiscard]] bool enabled() const noexcept { return early_; }

  /// Only the last few chunks are left: wakes the caller if it sleeps, where an early wake-up pays.
  void finishing() noexcept {
    if (early_) {
      wake();
    }
  }

  /// The work is over (returned or threw): wakes the caller if it sleeps. Only the first wake-up unparks.
  void wake() noexcept {
    if (caller_ != nullptr && state_.fetch_or(woken, std::memory_order_acq_rel) == sleeping) {
      caller_->unpark();
    }
  }

  /// Whether the caller has been woken (or will not sleep any more).
  [[nodiscard]] bool woken_up() const noexcept { return (state_.load(std::memory_order_acquire) & woken) != 0; }

  /// Whether this machine has a core for a waiting caller besides `workers` workers.
  [[nodiscard]] static bool spare_core(std::size_t workers) noexcept {
    static const unsigned hardware_threads = std::thread::hardware_concurrency();
    return hardware_threads > workers;
  }

  /// The caller: returns once woken, yielding for `caller_spin` and then sleeping.
  void await() noexcept {
    using clock = std::chrono::steady_clock;
    for (const auto deadline = clock::now() + caller_spin; clock::now() < deadline;) {
      if (woken_up()) {
        return;
      }
      std::this_thread::yield();
    }
    std::uint8_t expected = 0;
    if (!state_.compare_exchange_strong(expected, sleeping, std::memory_order_acq_rel)) {
      return;  // woken meanwhile
    }
    while (!woken_up()) {
      caller_->park();  // a stale permit may return at once: the loop checks again
    }
  }

 private:
  static constexpr std::uint8_t woken = 1;
  static constexpr std::uint8_t sleeping = 2;
  parker* caller_ = nullptr;
  bool early_ = false;
  std::atomic<std::uint8_t> state_{0};
};

/// Calls `wake()` when it goes out of scope.
class wake_on_exit {
 public:
  explicit wake_on_exit(caller_hand_off& h) noexcept : h_(&h) {}
  wake_on_exit(const wake_on_exit&) = delete;
  wake_on_exit& operator=(const wake_on_exit&) = delete;
  ~wake_on_exit() { h_->wake(); }

 private:
  caller_hand_off* h_;
};

/// Runs `body(hand_off)` on a worker of `ex`: directly when the caller is one (with a disabled hand-off), else as
/// the one task of a group the caller waits for, woken by `hand_off.finishing()` (where that pays) or when the body
/// returns or throws. A group rather than `async`: its result and exception stay on the caller's stack, with no heap
/// state.
template <class Body>
auto on_worker(executor& ex, Body&& body) {
  using result = std::invoke_result_t<Body&, caller_hand_off&>;
  if (ex.this_worker_index()) {
    caller_hand_off none;
    return body(none);
  }
  caller_hand_off hand_off{this_thread_parker(), caller_hand_off::spare_core(ex.num_workers())};
  task_group g{ex};
  if constexpr (std::is_void_v<result>) {
    g.spawn([&body, &hand_off] {
      const wake_on_exit wake{hand_off};  // also when the body throws
      body(hand_off);
    });
    hand_off.await();
    g.wait();
  } else {
    std::optional<result> out;
    g.spawn([&body, &hand_off, &out] {
      const wake_on_exit wake{hand_off};  // also when the body throws
      out.emplace(body(hand_off));
    });
    hand_off.await();
    g.wait();
    return std::move(*out);
  }
}

}  // namespace taskpipe::detail
