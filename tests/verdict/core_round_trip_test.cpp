#include "taskpipe/verdict/core_round_trip.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace v = taskpipe::verdict;

TEST(core_round_trip, is_a_plausible_time_on_two_cores_and_zero_on_one) {
  const double ns = v::core_round_trip_ns();
  if (std::thread::hardware_concurrency() < 2) {
    EXPECT_EQ(ns, 0.0);
    return;
  }
  // Two stores and two loads that miss: more than a few nanoseconds; the fastest of seven bursts stays far under the
  // 50 ms the probe may take even when the other core is busy (a burst is cut short, and counts what it did).
  EXPECT_GT(ns, 5.0);
  EXPECT_LT(ns, 1e6);
}

TEST(core_round_trip, tells_regimes_more_than_twice_apart) {
  EXPECT_FALSE(v::core_latency_changed(50, 60));
  EXPECT_FALSE(v::core_latency_changed(50, 100));
  EXPECT_TRUE(v::core_latency_changed(50, 101));
  EXPECT_TRUE(v::core_latency_changed(325, 52));
  EXPECT_FALSE(v::core_latency_changed(0, 325));  // not probed: nothing to compare
  EXPECT_FALSE(v::core_latency_changed(325, 0));
}
