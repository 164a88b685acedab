// The no-scheduler reference for workloads where both runtimes run near the machine's limit: the work is cut into two
// halves of equal cost up front, the calling thread runs one and a helper thread, started once per program, the other.
// No stealing, no chunking, no task at all: what two plain threads get. When taskpipe, oneTBB and `<workload>/halves`
// land within a few percent of one another, scheduling costs nothing measurable there and the ratio between the two
// runtimes is the machine's noise. It is a reference, not a bound: the runtimes can beat it where the order of the
// work matters (chunks streaming neighbouring memory, a recursive matmul's cache reuse).
//
// Use from one thread at a time (Google Benchmark runs benchmarks one at a time). The helper spins briefly after a
// half, then sleeps on an atomic wait, so it takes no CPU between benchmarks.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <utility>

namespace taskpipe::bench {

class static_halves {
 public:
  static_halves() : helper_([this] { serve(); }) {}
  static_halves(const static_halves&) = delete;
  static_halves& operator=(const static_halves&) = delete;
  ~static_halves() {
    stopping_.store(true, std::memory_order_relaxed);
    round_.fetch_add(1, std::memory_order_release);
    round_.notify_one();
    helper_.join();
  }

  /// Runs `here()` on the calling thread and `there()` on the helper; returns when both have returned. An exception
  /// from `here()` is rethrown after `there()` has finished; `there()` must not throw (the helper would terminate).
  template <class Here, class There>
  void run(Here&& here, There&& there) {
    job_ = [](void* f) { (*static_cast<std::remove_reference_t<There>*>(f))(); };
    job_arg_ = static_cast<void*>(&there);
    const std::uint32_t round = round_.fetch_add(1, std::memory_order_release) + 1;
    round_.notify_one();
    try {
      std::forward<Here>(here)();
    } catch (...) {
      wait_for(round);  // `there` may refer to the caller's frame: it must finish before the exception unwinds it
      throw;
    }
    wait_for(round);
  }

 private:
  // Yields before an atomic wait: a fraction of a millisecond on an idle core, at most a few milliseconds on a busy
  // one, far below the 50 ms that settle_idle_workers() leaves between benchmarks.
  static constexpr int spins_before_sleep = 2000;

  // Returns the first value of `a` for which `ready(value)` holds: yields between checks for a while (a benchmark's
  // iterations follow each other within microseconds), then sleeps on an atomic wait.
  template <class Ready>
  static std::uint32_t await(const std::atomic<std::uint32_t>& a, Ready ready) {
    std::uint32_t v = a.load(std::memory_order_acquire);
    for (int spin = 0; !ready(v) && spin < spins_before_sleep; ++spin) {
      std::this_thread::yield();
      v = a.load(std::memory_order_acquire);
    }
    while (!ready(v)) {
      a.wait(v, std::memory_order_acquire);
      v = a.load(std::memory_order_acquire);
    }
    return v;
  }

  void wait_for(std::uint32_t round) {
    await(done_, [round](std::uint32_t d) { return d == round; });
  }

  void serve() {
    std::uint32_t seen = 0;
    for (;;) {
      seen = await(round_, [seen](std::uint32_t now) { return now != seen; });
      if (stopping_.load(std::memory_order_relaxed)) {
        return;
      }
      job_(job_arg_);
      done_.store(seen, std::memory_order_release);
      done_.notify_one();
    }
  }

  void (*job_)(void*) = nullptr;
  void* job_arg_ = nullptr;
  std::atomic<std::uint32_t> round_{0};
  std::atomic<std::uint32_t> done_{0};
  std::atomic<bool> stopping_{false};
  std::thread helper_;  // last: starts after every other member is initialised
};

/// The program's one pair of halves.
inline static_halves& shared_halves() {
  static static_halves halves;
  return halves;
}

}  // namespace taskpipe::bench
