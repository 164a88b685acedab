// The core-to-core round-trip probe (see taskpipe/verdict/core_round_trip.hpp).
#include "taskpipe/verdict/core_round_trip.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "taskpipe/runtime/detail/cpu_relax.hpp"

namespace taskpipe::verdict {
namespace {

// Waits until `ball` holds `want` or `quit` is set; pauses first, then yields, so a partner that lost its core gets
// it back. Returns false when quit.
bool await(const std::atomic<std::uint64_t>& ball, std::uint64_t want, const std::atomic<bool>& quit) noexcept {
  for (std::uint32_t spins = 0; ball.load(std::memory_order_acquire) != want; ++spins) {
    if (quit.load(std::memory_order_relaxed)) {
      return false;
    }
    if (spins < 4096) {
      detail::cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  return true;
}

}  // namespace

double core_round_trip_ns() {
  if (std::thread::hardware_concurrency() < 2) {
    return 0;
  }
  constexpr int bursts = 7;
  constexpr std::uint64_t trips = 2000;
  using clock = std::chrono::steady_clock;
  alignas(64) std::atomic<std::uint64_t> ball{0};
  alignas(64) std::atomic<bool> quit{false};
  std::jthread partner([&ball, &quit] {
    for (std::uint64_t odd = 1; await(ball, odd, quit); odd += 2) {
      ball.store(odd + 1, std::memory_order_release);
    }
  });
  // A burst whose round trips took longer than this is cut short: the other core is busy, the probe says how busy.
  const auto deadline = clock::now() + std::chrono::milliseconds(50);
  std::vector<double> per_trip;
  std::uint64_t next = 1;
  const std::atomic<bool> never{false};
  for (int b = 0; b < bursts && clock::now() < deadline; ++b) {
    const auto t0 = clock::now();
    std::uint64_t done = 0;
    for (; done < trips; ++done, next += 2) {
      ball.store(next, std::memory_order_release);
      (void)await(ball, next + 1, never);
      if ((done & 255U) == 255U && clock::now() > deadline) {
        ++done;
        next += 2;
        break;
      }
    }
    per_trip.push_back(std::chrono::duration<double, std::nano>(clock::now() - t0).count() /
                       static_cast<double>(std::max<std::uint64_t>(done, 1)));
  }
  quit.store(true, std::memory_order_relaxed);
  partner.join();
  // The fastest burst: what the two cores can do, which a preempted partner only ever makes look slower.
  return *std::min_element(per_trip.begin(), per_trip.end());
}

bool core_latency_changed(double a_ns, double b_ns) noexcept {
  if (a_ns <= 0 || b_ns <= 0) {
    return false;
  }
  return std::max(a_ns, b_ns) > 2 * std::min(a_ns, b_ns);
}

}  // namespace taskpipe::verdict
