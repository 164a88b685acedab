// Failure injection: an allocation fails at every point of a run in turn (the n-th allocation after the run starts,
// for n = 1, 2, ...), under each strategy. The run must then return or throw std::bad_alloc, and either way every
// item it produced must have been destroyed: none leaked in a slot, none destroyed twice. This binary replaces
// operator new, so it is built on its own.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <new>
#include <optional>
#include <string>

#include "common/failing_new.hpp"
#include "taskpipe/pipeline/pipeline.hpp"

namespace {

using taskpipe::execution_strategy;
using taskpipe::test::fail_nth_allocation;
using taskpipe::test::failure_pending;

std::atomic<long> live_items{0};

// An item that counts how many of it are alive.
struct counted {
  explicit counted(int v) : value(v) { live_items.fetch_add(1); }
  counted(const counted& o) : value(o.value) { live_items.fetch_add(1); }
  counted(counted&& o) noexcept : value(o.value) { live_items.fetch_add(1); }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) = default;
  ~counted() { live_items.fetch_sub(1); }
  int value;
};

class pipeline_alloc_failure : public testing::TestWithParam<execution_strategy> {};

TEST_P(pipeline_alloc_failure, every_item_is_destroyed_whatever_allocation_fails) {
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = std::chrono::microseconds{0}}};
  constexpr int items = 3000;
  // farm runs only parallel middle stages
  const auto second = GetParam() == execution_strategy::farm ? taskpipe::parallel : taskpipe::serial_in_order;
  int failed = 0;
  for (long n = 1; n <= 300; ++n) {
    long sum = 0;
    bool threw = false;
    auto p = taskpipe::pipeline{ex, {.max_in_flight = 8, .strategy = GetParam(), .time_one_in = 4}}
                 .source([i = 0]() mutable -> std::optional<counted> {
                   if (i == items) {
                     return std::nullopt;
                   }
                   return counted{i++};
                 })
                 .stage(taskpipe::parallel, [](counted c) { return counted{c.value * 2}; })
                 .stage(second, [](counted c) { return c; })
                 .sink(taskpipe::serial_out_of_order, [&sum](counted c) { sum += c.value; });
    fail_nth_allocation(n);
    try {
      p.run();
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    const bool pending = failure_pending();
    fail_nth_allocation(0);
    ASSERT_EQ(live_items.load(), 0) << "allocation " << n << (threw ? " failed" : " did not fail");
    if (!threw) {
      ASSERT_EQ(sum, static_cast<long>(items) * (items - 1)) << "allocation " << n;
    }
    failed += threw ? 1 : 0;
    if (pending && !threw) {
      break;  // the run needed fewer than n allocations: every failure point has been tried
    }
  }
  EXPECT_GT(failed, 0);
}

INSTANTIATE_TEST_SUITE_P(strategies, pipeline_alloc_failure,
                         testing::Values(execution_strategy::token, execution_strategy::farm,
                                         execution_strategy::pinned),
                         [](const testing::TestParamInfo<execution_strategy>& i) {
                           return std::string(taskpipe::to_string(i.param));
                         });

}  // namespace
