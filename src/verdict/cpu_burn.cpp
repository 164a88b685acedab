#include "taskpipe/verdict/cpu_burn.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace taskpipe::verdict {
namespace {

std::uint64_t spin(std::uint64_t iterations) noexcept {
  std::uint64_t s = 0x2545f4914f6cdd1dULL;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    s ^= s << 13U;
    s ^= s >> 7U;
    s ^= s << 17U;
  }
  return s;
}

std::atomic<std::uint64_t> sink_value{0};  // keeps the chains' results alive

double iterations_per_us() noexcept {
  // The fastest of five runs: the rate of an idle core, which a preemption can only make look slower.
  static const double rate = [] {
    using clock = std::chrono::steady_clock;
    double best = 0;
    for (int r = 0; r < 5; ++r) {
      constexpr std::uint64_t n = 400'000;
      const auto t0 = clock::now();
      sink_value.fetch_xor(spin(n), std::memory_order_relaxed);
      const double us = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
      best = std::max(best, static_cast<double>(n) / std::max(us, 1e-3));
    }
    return best;
  }();
  return rate;
}

}  // namespace

void burn_cpu(double us) noexcept {
  if (us > 0) {
    sink_value.fetch_xor(spin(static_cast<std::uint64_t>(us * iterations_per_us())), std::memory_order_relaxed);
  }
}

double effective_cores(std::size_t threads) {
  threads = std::max<std::size_t>(1, threads);
  constexpr double work_us = 20'000;
  using clock = std::chrono::steady_clock;
  (void)iterations_per_us();
  // The best of three runs: a burst of load elsewhere, or a thread started late, only ever makes one run look slower.
  double best = 0;
  for (int run = 0; run < 3; ++run) {
    const auto t0 = clock::now();
    {
      std::vector<std::jthread> pool;
      pool.reserve(threads);
      for (std::size_t t = 0; t < threads; ++t) {
        pool.emplace_back([] { burn_cpu(work_us); });
      }
    }
    const double took_us = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
    // Every thread did work_us of idle-core work; over took_us of wall time that is this many cores.
    best = std::max(best, static_cast<double>(threads) * work_us / std::max(took_us, 1.0));
  }
  return std::min(static_cast<double>(threads), best);
}

}  // namespace taskpipe::verdict
