// White-box: how the `token` strategy hands a serial stage's parked items on. When the item that holds a serial stage
// has finished its last stage (it was at the sink), the same thread runs the parked items that follow it in the
// stage, one after the other, without a task each; a task per parked item is kept for the case where the holder's
// own item goes on downstream (then the parked item runs beside it).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "taskpipe/pipeline/pipeline.hpp"

namespace {

std::uint64_t tasks_run(const taskpipe::executor& ex) {
  std::uint64_t n = 0;
  for (const auto& w : ex.stats()) {
    n += w.tasks_run;
  }
  return n;
}

// Item 0 is held in the parallel stage until every other item has passed it and parked at the in-order sink; then it
// reaches the sink first and every parked item follows it there.
TEST(pipeline_token_handoff, a_sinks_parked_items_run_on_the_thread_that_held_the_sink_without_a_task_each) {
  constexpr int items = 9;
  constexpr auto bound = std::chrono::seconds{10};
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = std::chrono::microseconds{0}}};
  std::atomic<int> passed{0};
  std::vector<std::thread::id> sink_thread(items);
  std::vector<int> order;
  const std::uint64_t before = tasks_run(ex);
  taskpipe::pipeline{ex, {.max_in_flight = items, .strategy = taskpipe::execution_strategy::token}}
      .source([i = 0]() mutable -> std::optional<int> {
        if (i == items) {
          return std::nullopt;
        }
        return i++;
      })
      .stage(taskpipe::parallel,
             [&](int v) {
               if (v == 0) {
                 const auto deadline = std::chrono::steady_clock::now() + bound;
                 while (passed.load() != items - 1 && std::chrono::steady_clock::now() < deadline) {
                   std::this_thread::sleep_for(std::chrono::milliseconds{1});
                 }
                 std::this_thread::sleep_for(std::chrono::milliseconds{200});  // the last one parks right after
               } else {
                 passed.fetch_add(1);
               }
               return v;
             })
      .sink(taskpipe::serial_in_order,
            [&](int v) {
              sink_thread[static_cast<std::size_t>(v)] = std::this_thread::get_id();
              order.push_back(v);
            })
      .run();
  const std::uint64_t tasks = tasks_run(ex) - before;
  ASSERT_EQ(passed.load(), items - 1) << "the other items never passed item 0 (bounded wait ran out)";
  ASSERT_EQ(order.size(), static_cast<std::size_t>(items));
  for (int v = 0; v < items; ++v) {
    EXPECT_EQ(order[static_cast<std::size_t>(v)], v);
    EXPECT_EQ(sink_thread[static_cast<std::size_t>(v)], sink_thread[0]) << "item " << v;
  }
  // The run's tasks: the one that drives it, one source step per item, and the source step that finds the end of the
  // stream. A task per parked item would add items - 1 more.
  EXPECT_LE(tasks, static_cast<std::uint64_t>(items) + 2);
}

}  // namespace
