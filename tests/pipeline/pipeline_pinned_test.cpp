// The `pinned` strategy on a thread budget: the threads that run stage bodies never outnumber the budget (the
// executor's worker count by default, or pipeline_options::pinned_threads), whatever the chain's length and mix of
// serial and parallel stages; stages are placed by declared or measured cost; the placement is in the statistics.
// White-box tests of the placement itself (detail/pinned_placement.hpp) close the file.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "taskpipe/pipeline/detail/pinned_placement.hpp"
#include "taskpipe/pipeline/pipeline.hpp"

namespace {

using taskpipe::execution_strategy;
using taskpipe::stage_mode;

// Every stage call records its thread; a serial_in_order stage checks that it sees items in source order.
class thread_log {
 public:
  explicit thread_log(std::size_t stages) : per_stage_(stages), last_(stages, -1) {}

  void saw(std::size_t stage, int item, stage_mode mode) {
    const std::lock_guard lock{m_};
    per_stage_[stage].insert(std::this_thread::get_id());
    all_.insert(std::this_thread::get_id());
    if (mode == stage_mode::serial_in_order) {
      if (item <= last_[stage]) {
        ++out_of_order_;
      }
      last_[stage] = item;
    }
    ++calls_;
  }
  [[nodiscard]] std::size_t threads() const { return all_.size(); }
  [[nodiscard]] std::size_t threads_of(std::size_t stage) const { return per_stage_[stage].size(); }
  [[nodiscard]] int out_of_order() const { return out_of_order_; }
  [[nodiscard]] long calls() const { return calls_; }

 private:
  std::mutex m_;
  std::set<std::thread::id> all_;
  std::vector<std::set<std::thread::id>> per_stage_;
  std::vector<int> last_;
  int out_of_order_ = 0;
  long calls_ = 0;
};

stage_mode mode_of(char c) {
  return c == 'p' ? stage_mode::parallel : c == 'o' ? stage_mode::serial_out_of_order : stage_mode::serial_in_order;
}

taskpipe::runnable_pipeline add_stages(taskpipe::pipeline_builder<int>&& b, const std::string& shape, std::size_t i,
                                       thread_log& log) {
  const stage_mode mode = mode_of(shape[i]);
  if (i + 1 == shape.size()) {
    return std::move(b).sink(mode, [&log, i, mode](int v) { log.saw(i, v, mode); });
  }
  auto next = std::move(b).stage(mode, [&log, i, mode](int v) {
    log.saw(i, v, mode);
    return v;
  });
  return add_stages(std::move(next), shape, i + 1, log);
}

// `shape`: one letter per stage, the source first (s serial_in_order, o serial_out_of_order, p parallel).
taskpipe::runnable_pipeline make_chain(taskpipe::executor& ex, taskpipe::pipeline_options o, const std::string& shape,
                                       int items, thread_log& log) {
  auto b = taskpipe::pipeline{ex, std::move(o)}.source([&log, items, next = 0]() mutable -> std::optional<int> {
    if (next == items) {
      return std::nullopt;
    }
    log.saw(0, next, stage_mode::serial_in_order);
    return next++;
  });
  return add_stages(std::move(b), shape, 1, log);
}

struct budget_case {
  std::string shape;
  std::size_t workers;  // the executor's, the default budget
  std::size_t budget;   // pinned_threads, 0 for the default
};

class pinned_budget : public testing::TestWithParam<budget_case> {};

TEST_P(pinned_budget, no_more_threads_run_stage_bodies_than_the_budget) {
  const auto& c = GetParam();
  // More workers than cores where they matter, no spinning: a lost wake-up would show as a hang (bounded by the
  // test watchdog) rather than be hidden by a spinning thread.
  taskpipe::executor ex{{.workers = c.workers, .spin_before_sleep = std::chrono::microseconds{0}}};
  const std::size_t budget = c.budget != 0 ? c.budget : c.workers;
  constexpr int items = 400;
  thread_log log{c.shape.size()};
  auto p = make_chain(ex, {.max_in_flight = 8, .strategy = execution_strategy::pinned, .pinned_threads = c.budget},
                      c.shape, items, log);
  const auto stats = p.run();
  EXPECT_EQ(stats.items, static_cast<std::uint64_t>(items));
  EXPECT_EQ(log.calls(), static_cast<long>(items) * static_cast<long>(c.shape.size()));
  EXPECT_EQ(log.out_of_order(), 0);
  EXPECT_LE(log.threads(), budget) << stats.placement;
  EXPECT_LE(stats.threads, budget) << stats.placement;
  EXPECT_FALSE(stats.placement.empty());
  for (std::size_t i = 0; i < c.shape.size(); ++i) {
    EXPECT_GE(stats.stages[i].pinned_threads, 1U);
    EXPECT_LE(log.threads_of(i), stats.stages[i].pinned_threads) << "stage " << i << ": " << stats.placement;
    if (c.shape[i] != 'p') {
      EXPECT_EQ(stats.stages[i].pinned_threads, 1U) << "serial stage " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(chains, pinned_budget,
                         testing::Values(budget_case{"sps", 2, 0}, budget_case{"sps", 1, 0}, budget_case{"sss", 3, 0},
                                         budget_case{"ssssssss", 2, 0}, budget_case{"ssssssss", 3, 0},
                                         budget_case{"spspspsp", 2, 0}, budget_case{"spspspsp", 4, 0},
                                         budget_case{"sppppppp", 3, 0}, budget_case{"sssssssspppppppppp", 2, 0},
                                         budget_case{"sssssssspppppppppp", 4, 0},
                                         budget_case{"spopspopspopspopss", 3, 0},
                                         budget_case{"sppppppppppppppppp", 2, 5}, budget_case{"sps", 1, 3},
                                         budget_case{"sps", 2, 8}, budget_case{"ssssssss", 2, 1},
                                         // helped placements: fewer threads than serial and parallel runs
                                         budget_case{"spsp", 2, 0}, budget_case{"sppps", 2, 0},
                                         budget_case{"spopsp", 3, 0}, budget_case{"sps", 3, 0}));

TEST(pinned_placement_run, declared_costs_put_the_heavy_stage_on_a_thread_of_its_own) {
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = std::chrono::microseconds{0}}};
  thread_log log{4};
  auto p = make_chain(ex, {.max_in_flight = 8, .strategy = execution_strategy::pinned, .stage_costs = {1, 1, 1, 10}},
                      "ssss", 200, log);
  const auto stats = p.run();
  EXPECT_EQ(stats.threads, 2U) << stats.placement;
  EXPECT_EQ(stats.stages[0].pinned_thread, 0U);
  EXPECT_EQ(stats.stages[1].pinned_thread, 0U);
  EXPECT_EQ(stats.stages[2].pinned_thread, 0U);
  EXPECT_EQ(stats.stages[3].pinned_thread, 1U) << stats.placement;
  EXPECT_NE(stats.placement.find("source"), std::string::npos) << stats.placement;
}

TEST(pinned_placement_run, costs_measured_by_a_run_place_the_next_pinned_run) {
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = std::chrono::microseconds{0}}};
  int next = 0;
  auto spin = [](std::chrono::microseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
    }
  };
  auto p = taskpipe::pipeline{ex, {.max_in_flight = 8, .time_one_in = 1}}
               .source([&]() -> std::optional<int> { return next < 100 ? std::optional<int>(next++) : std::nullopt; })
               .stage(
                   taskpipe::serial_in_order,
                   [&](int v) {
                     spin(std::chrono::microseconds{200});
                     return v;
                   },
                   "heavy")
               .stage(
                   taskpipe::serial_in_order, [](int v) { return v; }, "light")
               .sink(taskpipe::serial_in_order, [](int) {});
  const auto first = p.run(execution_strategy::token);  // measures each stage
  next = 0;
  p.options().pinned_threads = 3;  // four stages on three threads: two must share one
  const auto stats = p.run(execution_strategy::pinned);
  EXPECT_EQ(stats.items, 100U);
  // The heavy stage alone on a thread; the light stage and the sink share one.
  EXPECT_NE(stats.stages[0].pinned_thread, stats.stages[1].pinned_thread)
      << stats.placement << " measured " << first.stages[0].busy.count() << " " << first.stages[1].busy.count() << " "
      << first.items;
  EXPECT_NE(stats.stages[2].pinned_thread, stats.stages[1].pinned_thread) << stats.placement;
  EXPECT_EQ(stats.stages[2].pinned_thread, stats.stages[3].pinned_thread) << stats.placement;
}

// Serial → heavy parallel → serial on 2 threads: the parallel stage runs on both (the serial stages' threads help it
// when their own input is empty), not fused with a serial stage onto one. Item 0's call waits (up to 10 s) for a
// second call of the stage to run beside it, which needs the other thread to help.
TEST(pinned_placement_run, a_heavy_parallel_stage_between_serial_ones_is_helped_by_every_thread) {
  taskpipe::executor ex{{.workers = 2, .spin_before_sleep = std::chrono::microseconds{0}}};
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::vector<int> sunk;
  int next = 0;
  const auto stats =
      taskpipe::pipeline{ex, {.max_in_flight = 8, .strategy = execution_strategy::pinned, .stage_costs = {1, 20, 1}}}
          .source([&]() -> std::optional<int> { return next < 300 ? std::optional<int>(next++) : std::nullopt; })
          .stage(
              taskpipe::parallel,
              [&](int v) {
                if (inside.fetch_add(1) >= 1) {
                  overlapped = true;
                }
                const auto end = std::chrono::steady_clock::now() + std::chrono::seconds{v == 0 ? 10 : 0};
                while (v == 0 && !overlapped && std::chrono::steady_clock::now() < end) {
                  std::this_thread::yield();
                }
                inside.fetch_sub(1);
                return v * 3;
              },
              "heavy")
          .sink(taskpipe::serial_in_order, [&](int v) { sunk.push_back(v); })
          .run();
  ASSERT_EQ(sunk.size(), 300U);
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(sunk[static_cast<std::size_t>(i)], 3 * i) << "item " << i;
  }
  EXPECT_TRUE(overlapped) << "the heavy stage never ran on two threads at once: " << stats.placement;
  EXPECT_EQ(stats.threads, 2U) << stats.placement;
  EXPECT_EQ(stats.stages[1].pinned_threads, 2U) << stats.placement;
  EXPECT_NE(stats.stages[0].pinned_thread, stats.stages[2].pinned_thread) << stats.placement;
  EXPECT_NE(stats.placement.find("heavy: threads 0-1 helping"), std::string::npos) << stats.placement;
}

TEST(pinned_placement_run, a_budget_out_of_range_or_costs_of_the_wrong_length_are_refused) {
  taskpipe::executor ex{{.workers = 1}};
  thread_log log{3};
  auto p = make_chain(ex, {.strategy = execution_strategy::pinned, .pinned_threads = 5000}, "sps", 3, log);
  EXPECT_THROW(p.run(), taskpipe::invalid_argument);
  p.options().pinned_threads = 0;
  p.options().stage_costs = {1, 2};
  EXPECT_THROW(p.run(), taskpipe::invalid_argument);
  p.options().stage_costs = {1, -2, 3};
  EXPECT_THROW(p.run(), taskpipe::invalid_argument);
}

// White-box: the placement.
using taskpipe::detail::pinned_segment;
using taskpipe::detail::place_pinned;

std::size_t total_threads(const std::vector<pinned_segment>& s) {
  std::size_t n = 0;
  for (const auto& x : s) {
    n += x.threads;
  }
  return n;
}

TEST(pinned_placement, a_budget_of_a_thread_per_stage_gives_each_its_own_and_the_rest_to_parallel_stages) {
  const auto s = place_pinned({1, 4, 1}, {true, false, true}, 6, 0);
  ASSERT_EQ(s.size(), 3U);
  EXPECT_EQ(s[0].threads, 1U);
  EXPECT_EQ(s[1].threads, 4U);
  EXPECT_EQ(s[2].threads, 1U);
  const auto capped = place_pinned({1, 4, 1}, {true, false, true}, 6, 2);
  EXPECT_EQ(capped[1].threads, 2U);
}

TEST(pinned_placement, a_small_budget_fuses_stages_and_balances_the_segments) {
  const auto s = place_pinned(std::vector<double>(8, 1.0), std::vector<bool>(8, true), 2, 0);
  ASSERT_EQ(s.size(), 2U);
  EXPECT_EQ(s[0].first, 0U);
  EXPECT_EQ(s[0].last, 3U);
  EXPECT_EQ(s[1].last, 7U);
  const auto one = place_pinned({1, 1, 1}, {true, false, true}, 1, 0);
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].last, 2U);
}

TEST(pinned_placement, a_budget_short_of_the_runs_helps_the_parallel_ones_from_every_thread) {
  const auto s = place_pinned({1, 20, 1}, {true, false, true}, 2, 0);
  ASSERT_EQ(s.size(), 3U);
  EXPECT_EQ(s[0].threads, 1U);
  EXPECT_FALSE(s[0].helped);
  EXPECT_EQ(s[1].threads, 0U);
  EXPECT_TRUE(s[1].helped);
  EXPECT_EQ(s[2].threads, 1U);
  EXPECT_EQ(taskpipe::detail::describe_placement(s, {"source", "square", "write"}),
            "source: thread 0 | square: threads 0-1 helping | write: thread 1");
  // A spare thread goes to the helped segment; a width cap under the budget keeps the fused placement.
  const auto spare = place_pinned({1, 20, 1, 20}, {true, false, true, false}, 3, 0);
  ASSERT_EQ(spare.size(), 4U);
  EXPECT_EQ(spare[1].threads + spare[3].threads, 1U);
  EXPECT_TRUE(spare[1].helped && spare[3].helped);
  const auto capped = place_pinned({1, 20, 1}, {true, false, true}, 2, 1);
  EXPECT_EQ(capped.size(), 2U);
  EXPECT_FALSE(capped[0].helped || capped[1].helped);
  // A thread for every run, or more serial runs than threads: no helping.
  for (const auto& seg : place_pinned({1, 20, 1}, {true, false, true}, 3, 0)) {
    EXPECT_FALSE(seg.helped);
  }
  for (const auto& seg :
       place_pinned(std::vector<double>(8, 1.0), {true, false, true, false, true, false, true, false}, 2, 0)) {
    EXPECT_FALSE(seg.helped);
  }
}

TEST(pinned_placement, parallel_stages_share_threads_and_a_serial_stage_never_has_two) {
  std::vector<double> cost(18, 1.0);
  std::vector<bool> serial(18, false);
  for (std::size_t i = 0; i < 8; ++i) {
    serial[i] = true;
  }
  for (std::size_t budget = 1; budget <= 20; ++budget) {
    const auto s = place_pinned(cost, serial, budget, 0);
    EXPECT_LE(total_threads(s), budget);
    EXPECT_EQ(s.front().first, 0U);
    EXPECT_EQ(s.back().last, 17U);
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (k > 0) {
        EXPECT_EQ(s[k].first, s[k - 1].last + 1);
      }
      if (s[k].threads > 1) {
        for (std::size_t i = s[k].first; i <= s[k].last; ++i) {
          EXPECT_FALSE(serial[i]) << "budget " << budget << " segment " << k;
        }
      }
    }
  }
}

}  // namespace
