// White-box: the ordered scan under load. One chunk's thread stalls (its `op` sleeps, as a descheduled thread would);
// the other workers must stop waiting for it, degrade, and still produce the exact scan: the chunks that could not
// find their prefix are written by the second pass.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "taskpipe/algorithm/detail/ordered_scan.hpp"

namespace {

using namespace std::chrono_literals;
using value = std::int64_t;
constexpr std::size_t chunk = 2048;
constexpr std::size_t n = 40 * chunk;

std::vector<value> odd_numbers() {
  std::vector<value> v(n);
  for (std::size_t k = 0; k < n; ++k) {
    v[k] = static_cast<value>(2 * k + 1);  // distinct, so one element can be told from every other
  }
  return v;
}

// `op` is a sum that sleeps once, the first time it meets element `stall_at`, and throws at element `throw_at`.
struct stalling_plus {
  value stall_value;
  value throw_value;
  std::atomic<bool>* slept;
  value operator()(value a, value b) const {
    if (b == stall_value && !slept->exchange(true)) {
      std::this_thread::sleep_for(50ms);
    }
    if (b == throw_value) {
      throw std::runtime_error("op failed");
    }
    return a + b;
  }
};

struct scan_case {
  std::optional<value> init;
  bool exclusive;
  bool in_place;
};

class parallel_scan_degraded : public testing::TestWithParam<scan_case> {};

TEST_P(parallel_scan_degraded, a_stalled_chunk_degrades_the_scan_and_the_output_stays_exact) {
  const scan_case c = GetParam();
  taskpipe::executor ex{{.workers = 4, .spin_before_sleep = 0us}};  // more workers than the 2 cores of CI
  const std::vector<value> in = odd_numbers();
  std::vector<value> expect(n);
  if (c.exclusive) {
    std::exclusive_scan(in.begin(), in.end(), expect.begin(), *c.init);
  } else if (c.init) {
    std::inclusive_scan(in.begin(), in.end(), expect.begin(), std::plus<>{}, *c.init);
  } else {
    std::inclusive_scan(in.begin(), in.end(), expect.begin());
  }
  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> slept{false};
    stalling_plus op{in[3 * chunk + 7], -1, &slept};
    std::vector<value> buffer = in;
    std::vector<value> separate(n);
    auto out = c.in_place ? buffer.begin() : separate.begin();
    taskpipe::detail::ordered_scan<value, std::vector<value>::iterator, std::vector<value>::iterator, stalling_plus>
        scan{buffer.begin(), out, n, chunk, op, c.init, c.exclusive};
    const bool degraded = ex.async([&] {
                              taskpipe::detail::caller_hand_off none;  // run on a worker: nobody to wake
                              return scan.run(ex, {}, none);
                            }).get();
    EXPECT_TRUE(slept.load());
    EXPECT_TRUE(degraded) << "round " << round << ": the others waited 50 ms for the stalled chunk";
    ASSERT_EQ(c.in_place ? buffer : separate, expect) << "round " << round;
  }
}

INSTANTIATE_TEST_SUITE_P(modes, parallel_scan_degraded,
                         testing::Values(scan_case{std::nullopt, false, false}, scan_case{value{5}, false, false},
                                         scan_case{value{-3}, true, false}, scan_case{std::nullopt, false, true},
                                         scan_case{value{7}, true, true}));

TEST(parallel_scan_degraded, a_failure_after_degrading_reaches_the_caller) {
  taskpipe::executor ex{{.workers = 4, .spin_before_sleep = 0us}};
  const std::vector<value> in = odd_numbers();
  std::atomic<bool> slept{false};
  stalling_plus op{in[3 * chunk + 7], in[30 * chunk + 11], &slept};
  std::vector<value> out(n);
  taskpipe::detail::ordered_scan<value, std::vector<value>::const_iterator, std::vector<value>::iterator, stalling_plus>
      scan{in.begin(), out.begin(), n, chunk, op, std::nullopt, false};
  EXPECT_THROW(ex.async([&] {
                   taskpipe::detail::caller_hand_off none;  // run on a worker: nobody to wake
                   return scan.run(ex, {}, none);
                 }).get(),
               std::runtime_error);
}

}  // namespace
