// Conformance: what the pipeline docs promise, under each strategy — typed chains, order, stats, trace, options.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/strategy_name.hpp"
#include "taskpipe/pipeline/pipeline.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace {

using taskpipe::execution_strategy;

class each_strategy : public testing::TestWithParam<execution_strategy> {};

auto counter_source(int n) {
  return [i = 0, n]() mutable -> std::optional<int> {
    if (i == n) {
      return std::nullopt;
    }
    return i++;
  };
}

TEST_P(each_strategy, typed_chain_changes_types_and_keeps_order) {
  taskpipe::executor ex{{.workers = 2}};
  std::vector<std::string> out;
  auto stats = taskpipe::pipeline{ex, {.max_in_flight = 8, .strategy = GetParam()}}
                   .source(counter_source(1000))
                   .stage(
                       taskpipe::parallel, [](int i) { return std::to_string(i); }, "to_string")
                   .stage(taskpipe::parallel, [](const std::string& s) { return s + "!"; })
                   .sink(taskpipe::serial_in_order, [&](std::string s) { out.push_back(std::move(s)); })
                   .run();
  ASSERT_EQ(out.size(), 1000U);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(out[static_cast<std::size_t>(i)], std::to_string(i) + "!");
  }
  ASSERT_EQ(stats.stages.size(), 4U);
  EXPECT_EQ(stats.strategy, GetParam());
  EXPECT_EQ(stats.stages[1].name, "to_string");
  for (const auto& s : stats.stages) {
    EXPECT_EQ(s.items, 1000U) << s.name;
  }
  EXPECT_EQ(stats.items, 1000U);
  EXPECT_GT(stats.throughput(), 0.0);
  EXPECT_LE(stats.latency_p50, stats.latency_p99);
  EXPECT_GT(stats.latency_p99.count(), 0);
  EXPECT_FALSE(stats.stopped);
}

TEST_P(each_strategy, move_only_items_and_empty_stream) {
  taskpipe::executor ex{{.workers = 2}};
  int sum = 0;
  auto p = taskpipe::pipeline{ex, {.max_in_flight = 4, .strategy = GetParam()}}
               .source(counter_source(100))
               .stage(taskpipe::parallel, [](int i) { return std::make_unique<int>(i); })
               .sink(taskpipe::serial_out_of_order, [&](std::unique_ptr<int> v) { sum += *v; });
  auto stats = p.run();
  EXPECT_EQ(sum, 4950);
  EXPECT_EQ(stats.items, 100U);
  auto again = p.run();  // the source is exhausted: an empty stream is fine
  EXPECT_EQ(again.items, 0U);
}

TEST_P(each_strategy, stages_may_use_task_parallelism_inside) {
  taskpipe::executor ex{{.workers = 2}};
  long total = 0;
  taskpipe::pipeline{ex, {.max_in_flight = 4, .strategy = GetParam()}}
      .source(counter_source(50))
      .stage(taskpipe::parallel,
             [&ex](int i) {
               std::atomic<long> s{0};
               taskpipe::task_group g{ex};
               for (int k = 0; k < 8; ++k) {
                 g.spawn([&s, i, k] { s.fetch_add(static_cast<long>(i) * k); });
               }
               g.wait();
               return s.load();
             })
      .sink(taskpipe::serial_in_order, [&](long v) { total += v; })
      .run();
  EXPECT_EQ(total, 28L * 1225L);
}

TEST_P(each_strategy, one_token_runs_items_one_at_a_time) {
  taskpipe::executor ex{{.workers = 2}};
  std::atomic<int> live{0};
  std::atomic<int> peak{0};
  taskpipe::pipeline{ex, {.max_in_flight = 1, .strategy = GetParam()}}
      .source([&, i = 0]() mutable -> std::optional<int> {
        if (i == 200) {
          return std::nullopt;
        }
        const int now = live.fetch_add(1) + 1;
        peak.store(std::max(peak.load(), now));
        return i++;
      })
      .stage(taskpipe::parallel, [](int i) { return i; })
      .sink(taskpipe::parallel, [&](int) { live.fetch_sub(1); })
      .run();
  EXPECT_EQ(peak.load(), 1);
}

TEST_P(each_strategy, trace_is_chrome_json_with_one_slice_per_stage_execution) {
  taskpipe::executor ex{{.workers = 2}};
  const std::string path =
      testing::TempDir() + "pipeline_trace_" + std::string(taskpipe::to_string(GetParam())) + ".json";
  taskpipe::pipeline{ex, {.max_in_flight = 4, .strategy = GetParam(), .trace_path = path}}
      .source(counter_source(10))
      .stage(
          taskpipe::parallel, [](int i) { return i; }, "double \"quoted\"")
      .sink(taskpipe::serial_in_order, [](int) {})
      .run();
  std::ifstream f{path};
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string json = ss.str();
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\"", 0), 0U) << json.substr(0, 80);
  std::size_t slices = 0;
  for (auto pos = json.find("\"ph\":\"X\""); pos != std::string::npos; pos = json.find("\"ph\":\"X\"", pos + 1)) {
    ++slices;
  }
  EXPECT_EQ(slices, 30U);
  EXPECT_NE(json.find(R"(double \"quoted\")"), std::string::npos);
  std::remove(path.c_str());
}

TEST_P(each_strategy, bad_options_throw_invalid_argument_naming_the_value) {
  taskpipe::executor ex{{.workers = 1}};
  auto p = taskpipe::pipeline{ex, {.max_in_flight = 0, .strategy = GetParam()}}
               .source(counter_source(3))
               .sink(taskpipe::parallel, [](int) {});
  try {
    p.run();
    FAIL() << "no exception";
  } catch (const taskpipe::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("max_in_flight = 0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 to 65536"), std::string::npos) << e.what();
  }
  p.options().max_in_flight = 4;
  p.options().pinned_width = 1000;
  EXPECT_THROW(p.run(), taskpipe::invalid_argument);
  p.options().pinned_width = 0;
  p.options().time_one_in = 3;
  EXPECT_THROW(p.run(), taskpipe::invalid_argument);
}

TEST_P(each_strategy, timing_every_item_gives_busy_time_for_every_stage) {
  taskpipe::executor ex{{.workers = 2}};
  auto stats = taskpipe::pipeline{ex, {.max_in_flight = 4, .strategy = GetParam(), .time_one_in = 1}}
                   .source(counter_source(20))
                   .stage(taskpipe::parallel,
                          [](int i) {
                            std::this_thread::sleep_for(std::chrono::microseconds(100));
                            return i;
                          })
                   .sink(taskpipe::serial_in_order, [](int) {})
                   .run();
  EXPECT_GE(stats.stages[1].busy, std::chrono::microseconds(20 * 100));
  EXPECT_LT(stats.stages[1].busy, stats.elapsed * 2 + std::chrono::milliseconds(5));
  EXPECT_GE(stats.latency_p50, std::chrono::microseconds(100));
}

INSTANTIATE_TEST_SUITE_P(pipeline, each_strategy,
                         testing::Values(execution_strategy::token, execution_strategy::pinned,
                                         execution_strategy::farm),
                         taskpipe::test::strategy_name);

// A farm with serial middle stages: the in-order one sees items in source order, neither ever runs two items at
// once, and the output is every item, transformed by every stage, in order.
TEST(pipeline_farm, serial_middle_stages_keep_their_lock_and_their_order) {
  taskpipe::executor ex{{.workers = 4, .spin_before_sleep = std::chrono::microseconds{0}}};
  constexpr int n = 3000;
  std::atomic<int> inside_ordered{0}, inside_unordered{0}, overlaps{0};
  std::vector<int> ordered_seen, unordered_seen, out;
  auto stats = taskpipe::pipeline{ex, {.max_in_flight = 16, .strategy = execution_strategy::farm}}
                   .source(counter_source(n))
                   .stage(taskpipe::parallel, [](int i) { return i * 3; })
                   .stage(
                       taskpipe::serial_in_order,
                       [&](int i) {
                         overlaps += inside_ordered.fetch_add(1) != 0 ? 1 : 0;
                         ordered_seen.push_back(i);
                         inside_ordered.fetch_sub(1);
                         return i + 1;
                       },
                       "ordered")
                   .stage(taskpipe::parallel, [](int i) { return i * 2; })
                   .stage(
                       taskpipe::serial_out_of_order,
                       [&](int i) {
                         overlaps += inside_unordered.fetch_add(1) != 0 ? 1 : 0;
                         unordered_seen.push_back(i);
                         inside_unordered.fetch_sub(1);
                         return i;
                       },
                       "unordered")
                   .sink(taskpipe::serial_in_order, [&](int i) { out.push_back(i); })
                   .run();
  EXPECT_EQ(stats.items, static_cast<std::uint64_t>(n));
  EXPECT_EQ(overlaps.load(), 0);
  ASSERT_EQ(ordered_seen.size(), static_cast<std::size_t>(n));
  ASSERT_EQ(out.size(), static_cast<std::size_t>(n));
  std::vector<int> sorted_unordered = unordered_seen;
  std::sort(sorted_unordered.begin(), sorted_unordered.end());
  for (int i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    EXPECT_EQ(ordered_seen[k], i * 3) << "the in-order stage saw item " << k << " out of order";
    EXPECT_EQ(out[k], (i * 3 + 1) * 2);
    EXPECT_EQ(sorted_unordered[k], (i * 3 + 1) * 2) << "the out-of-order stage lost or repeated an item";
  }
}

// Three distinct threads must be inside the parallel stage at once (it waits, bounded, until they are), and no
// fourth ever appears: with the width ignored (all five threads of the budget, less source and sink) the count is
// wrong, and with the budget ignored (one thread, the executor's width) the wait times out and fails.
TEST(pipeline_pinned, width_caps_the_threads_of_a_parallel_stage_within_the_budget) {
  taskpipe::executor ex{{.workers = 1}};
  std::mutex m;
  std::condition_variable cv;
  std::set<std::thread::id> seen;
  bool all_three_met = false;
  bool gave_up = false;  // after one timeout, later items pass at once
  taskpipe::pipeline{
      ex, {.max_in_flight = 8, .strategy = execution_strategy::pinned, .pinned_threads = 6, .pinned_width = 3}}
      .source(counter_source(300))
      .stage(taskpipe::parallel,
             [&](int i) {
               std::unique_lock lock{m};
               seen.insert(std::this_thread::get_id());
               if (seen.size() >= 3) {
                 all_three_met = true;
                 cv.notify_all();
               }
               if (!gave_up && !cv.wait_for(lock, std::chrono::seconds(10), [&] { return all_three_met; })) {
                 gave_up = true;
               }
               return i;
             })
      .sink(taskpipe::serial_in_order, [](int) {})
      .run();
  EXPECT_TRUE(all_three_met) << "only " << seen.size() << " thread(s) ran the stage";
  EXPECT_EQ(seen.size(), 3U);
}

TEST(pipeline_builder, a_builder_moved_from_twice_or_a_second_source_is_refused) {
  taskpipe::executor ex{{.workers = 1}};
  auto b = taskpipe::pipeline{ex}.source(counter_source(3));
  auto first = std::move(b).stage(taskpipe::parallel, [](int i) { return i + 1; });
  // NOLINTNEXTLINE(bugprone-use-after-move): the misuse under test
  EXPECT_THROW((void)std::move(b).stage(taskpipe::parallel, [](int i) { return i + 2; }), taskpipe::error);
  EXPECT_THROW((void)std::move(b).sink(taskpipe::parallel, [](int) {}), taskpipe::error);
  int sum = 0;
  EXPECT_EQ(std::move(first).sink(taskpipe::serial_in_order, [&](int i) { sum += i; }).run().items, 3U);
  EXPECT_EQ(sum, 1 + 2 + 3);

  taskpipe::pipeline p{ex, {.max_in_flight = 2}};
  auto chain = p.source(counter_source(1));
  EXPECT_THROW((void)p.source(counter_source(1)), taskpipe::error);
}

}  // namespace

TEST(pipeline_stats, busy_percentiles_and_spread_describe_each_stages_time) {
  taskpipe::executor ex{taskpipe::executor_options{.workers = 2}};
  int n = 0;
  // The middle stage takes 200 us on one item in ten and almost nothing on the others.
  auto stats = taskpipe::pipeline{ex, {.max_in_flight = 4, .time_one_in = 1}}
                   .source([&]() -> std::optional<int> { return n < 200 ? std::optional<int>(n++) : std::nullopt; })
                   .stage(taskpipe::serial_in_order,
                          [](int v) {
                            if (v % 10 == 0) {
                              const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
                              while (std::chrono::steady_clock::now() < until) {
                              }
                            }
                            return v;
                          })
                   .sink(taskpipe::serial_in_order, [](int) {})
                   .run();
  const auto& s = stats.stages[1];
  EXPECT_LT(s.busy_p50, std::chrono::microseconds(50));   // most items are cheap
  EXPECT_GE(s.busy_p99, std::chrono::microseconds(180));  // the 99th percentile lands among the slow tenth
  EXPECT_LE(s.busy_p50, s.busy_p99);
  EXPECT_GT(s.busy_spread, 1.0);  // a tenth of the items at 200 us and the rest near 0: CV about 3
}
