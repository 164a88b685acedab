// The benchmarks' no-scheduler reference (bench/common/static_halves.hpp): both halves run, on two threads, and
// everything either half wrote is visible when run() returns (plain ints, so ThreadSanitizer sees any missing
// happens-before); an exception from the caller's half waits for the helper's half; helpers start and stop cleanly.
#include "common/static_halves.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using taskpipe::bench::static_halves;

TEST(static_halves, runs_both_halves_on_two_threads_and_publishes_their_writes) {
  static_halves halves;
  constexpr int rounds = 2000;
  std::vector<int> here_wrote(rounds, -1);
  std::vector<int> there_wrote(rounds, -1);
  std::thread::id there_thread;
  for (int i = 0; i < rounds; ++i) {
    const auto k = static_cast<std::size_t>(i);
    halves.run([&] { here_wrote[k] = i; },
               [&] {
                 there_wrote[k] = 2 * i;
                 there_thread = std::this_thread::get_id();
               });
    ASSERT_EQ(here_wrote[k], i);
    ASSERT_EQ(there_wrote[k], 2 * i) << "round " << i << ": the helper's half did not finish before run() returned";
  }
  EXPECT_NE(there_thread, std::this_thread::get_id());
}

TEST(static_halves, an_exception_from_the_callers_half_waits_for_the_helpers_half) {
  static_halves halves;
  bool there_finished = false;
  EXPECT_THROW(halves.run([] { throw std::runtime_error("here failed"); },
                          [&] {
                            std::this_thread::sleep_for(std::chrono::milliseconds(20));
                            there_finished = true;
                          }),
               std::runtime_error);
  EXPECT_TRUE(there_finished);
  int after = 0;
  halves.run([&] { after += 1; }, [] {});
  EXPECT_EQ(after, 1) << "usable after an exception";
}

TEST(static_halves, starts_and_stops_in_a_loop) {
  for (int i = 0; i < 200; ++i) {
    static_halves halves;
    if (i % 2 == 0) {
      int sum = 0;
      int other = 0;
      halves.run([&] { sum = i; }, [&] { other = i; });
      ASSERT_EQ(sum + other, 2 * i);
    }
  }
}

}  // namespace
