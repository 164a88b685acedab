// Failure and stop, deterministic cases under each strategy: the first exception reaches run() unchanged, an outside
// stop ends an endless stream, and neither leaves a hang behind — also on a one-worker executor.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/strategy_name.hpp"
#include "taskpipe/pipeline/pipeline.hpp"

namespace {

using namespace std::chrono_literals;
using taskpipe::execution_strategy;

class failure : public testing::TestWithParam<execution_strategy> {};

auto endless_source() {
  return [i = 0]() mutable -> std::optional<int> { return i++; };
}

TEST_P(failure, a_source_exception_is_rethrown_unchanged) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<int> sunk{0};
  auto p = taskpipe::pipeline{ex, {.max_in_flight = 4, .strategy = GetParam()}}
               .source([i = 0]() mutable -> std::optional<int> {
                 if (i == 10) {
                   throw std::out_of_range("source broke at 10");
                 }
                 return i++;
               })
               .stage(taskpipe::parallel, [](int i) { return i; })
               .sink(taskpipe::serial_in_order, [&](int) { sunk.fetch_add(1); });
  try {
    p.run();
    FAIL() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "source broke at 10");
  }
  EXPECT_LE(sunk.load(), 10);
}

TEST_P(failure, a_sink_exception_stops_an_endless_stream) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<int> after{0};
  auto p = taskpipe::pipeline{ex, {.max_in_flight = 8, .strategy = GetParam()}}
               .source(endless_source())
               .stage(taskpipe::parallel, [](int i) { return i * 2; })
               .sink(taskpipe::serial_in_order, [&](int v) {
                 if (v == 200) {
                   throw std::runtime_error("sink");
                 }
                 if (v > 200) {
                   after.fetch_add(1);
                 }
               });
  EXPECT_THROW(p.run(), std::runtime_error);
  EXPECT_EQ(after.load(), 0) << "an in-order sink saw items after the one that threw";
}

TEST_P(failure, every_item_throwing_rethrows_one_and_terminates) {
  taskpipe::executor ex{{.workers = 1}};
  auto p = taskpipe::pipeline{ex, {.max_in_flight = 16, .strategy = GetParam(), .pinned_width = 3}}
               .source(endless_source())
               .stage(taskpipe::parallel, [](int i) -> int { throw std::logic_error(std::to_string(i)); })
               .sink(taskpipe::parallel, [](int) {});
  EXPECT_THROW(p.run(), std::logic_error);
}

TEST_P(failure, an_outside_stop_ends_an_endless_stream_and_finishes_what_was_produced) {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::stop_source stop;
  std::atomic<int> produced{0};
  std::atomic<int> sunk{0};
  auto p = taskpipe::pipeline{ex, {.max_in_flight = 8, .strategy = GetParam(), .stop = stop.get_token()}}
               .source([&, i = 0]() mutable -> std::optional<int> {
                 produced.fetch_add(1);
                 return i++;
               })
               .stage(taskpipe::parallel,
                      [](int i) {
                        std::this_thread::sleep_for(10us);
                        return i;
                      })
               .sink(taskpipe::serial_in_order, [&](int) { sunk.fetch_add(1); });
  std::thread stopper{[&] {
    while (sunk.load() < 100) {
      std::this_thread::sleep_for(1ms);
    }
    stop.request_stop();
  }};
  auto stats = p.run();
  stopper.join();
  EXPECT_TRUE(stats.stopped);
  EXPECT_EQ(sunk.load(), produced.load());
  EXPECT_EQ(stats.items, static_cast<std::uint64_t>(produced.load()));
  EXPECT_GE(stats.items, 100U);
}

TEST_P(failure, a_stop_before_the_run_produces_nothing) {
  taskpipe::executor ex{{.workers = 1}};
  taskpipe::stop_source stop;
  stop.request_stop();
  auto stats = taskpipe::pipeline{ex, {.strategy = GetParam(), .stop = stop.get_token()}}
                   .source(endless_source())
                   .sink(taskpipe::serial_in_order, [](int) {})
                   .run();
  EXPECT_EQ(stats.items, 0U);
  EXPECT_TRUE(stats.stopped);
}

TEST_P(failure, the_pipeline_runs_again_after_a_failure) {
  taskpipe::executor ex{{.workers = 2}};
  bool fail = true;
  int n = 0;
  auto p = taskpipe::pipeline{ex, {.max_in_flight = 4, .strategy = GetParam()}}
               .source([&]() -> std::optional<int> {
                 if (n == 50) {
                   return std::nullopt;
                 }
                 return n++;
               })
               .stage(taskpipe::parallel,
                      [&](int i) {
                        if (fail && i == 20) {
                          throw std::runtime_error("once");
                        }
                        return i;
                      })
               .sink(taskpipe::serial_out_of_order, [](int) {});
  EXPECT_THROW(p.run(), std::runtime_error);
  fail = false;
  n = 0;
  EXPECT_EQ(p.run().items, 50U);
}

INSTANTIATE_TEST_SUITE_P(pipeline, failure,
                         testing::Values(execution_strategy::token, execution_strategy::pinned,
                                         execution_strategy::farm),
                         taskpipe::test::strategy_name);

}  // namespace
