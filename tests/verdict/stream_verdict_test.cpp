#include "taskpipe/verdict/stream_verdict.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "taskpipe/verdict/core_round_trip.hpp"
#include "taskpipe/verdict/cpu_burn.hpp"
#include "taskpipe/verdict/synthetic_chain.hpp"

namespace v = taskpipe::verdict;

namespace {

v::chain_workload small_chain() {
  v::chain_workload w;
  w.items = 400;
  w.stages = {{"read", taskpipe::serial_in_order, 5, 0, 0, 64},
              {"work", taskpipe::parallel, 60, 0.3, 0, 64},
              {"write", taskpipe::serial_in_order, 5, 0, 0, 64}};
  return w;
}

}  // namespace

TEST(synthetic_chain, runs_every_item_in_order_under_every_strategy) {
  taskpipe::executor ex{taskpipe::executor_options{.workers = 3, .spin_before_sleep = std::chrono::microseconds(0)}};
  auto w = small_chain();
  w.stages[1].state_bytes = 1 << 16;
  for (const auto s : {taskpipe::execution_strategy::token, taskpipe::execution_strategy::pinned,
                       taskpipe::execution_strategy::farm}) {
    auto p = v::make_synthetic_pipeline(ex, w, {.max_in_flight = 8, .strategy = s});
    const auto st = p.run();  // the sink throws if an item arrives out of order
    EXPECT_EQ(st.items, w.items) << to_string(s);
  }
}

TEST(effective_cores, is_between_zero_and_the_threads_asked_for) {
  for (const std::size_t t : {1U, 2U, 4U}) {
    const double c = v::effective_cores(t);
    EXPECT_GT(c, 0.0);
    EXPECT_LE(c, static_cast<double>(t));
  }
  // Four threads on a machine of fewer cores cannot all run at once.
  if (std::thread::hardware_concurrency() < 4) {
    EXPECT_LT(v::effective_cores(4), 3.9);
  }
}

TEST(calibration, measures_each_stages_true_time_and_spread) {
  const auto w = small_chain();
  const auto p = v::calibrate(
      [&](taskpipe::executor& ex, const taskpipe::pipeline_options& o) { return v::make_synthetic_pipeline(ex, w, o); },
      {});
  ASSERT_EQ(p.stages.size(), 3U);
  EXPECT_EQ(p.stages[1].name, "work");
  // The work stage burns 60 us of work per item and the source 5 us. A loaded machine only makes stages look
  // slower (a preempted call), and the median of three runs keeps one preemption from deciding a figure.
  EXPECT_GT(p.stages[1].mean_ns, 50'000);
  EXPECT_GT(p.stages[1].mean_ns, p.stages[0].mean_ns);
  EXPECT_GT(p.stages[1].spread, 0.1);  // drawn with spread 0.3
  EXPECT_GT(p.handoff_ns[0], 0.0);
  EXPECT_GT(p.handoff_ns[1], 0.0);
  EXPECT_GT(p.pinned_solo_handoff_ns, 0.0);
  // The machine the profile was taken on: the core-to-core round trip, probed where there are two cores.
  EXPECT_EQ(p.core_round_trip_ns > 0, std::thread::hardware_concurrency() > 1);
  // With more than one hardware thread, the runs on every worker time each stage too, and the reference runs fit the
  // contention so that the model gives their rates (the bisection's tolerance, or the floor of minus the hand-off).
  if (std::thread::hardware_concurrency() > 1) {
    EXPECT_GT(p.stages[1].shared_mean_ns, 50'000);
    const std::size_t cores = std::thread::hardware_concurrency();
    ASSERT_GT(p.shared_reference_throughput, 0.0);
    const double token = v::predict(p, {taskpipe::execution_strategy::token, cores, 16}, cores).throughput;
    if (p.shared_handoff_extra_ns > -p.handoff_ns[0]) {
      EXPECT_NEAR(token, p.shared_reference_throughput, 0.01 * p.shared_reference_throughput);
    } else {  // at the floor, a bound the contention does not enter keeps the model under the run's rate
      EXPECT_LE(token, p.shared_reference_throughput);
    }
    // The candidates the fit was made on, and no others, are its references.
    const auto token_reference = v::contention_reference(taskpipe::execution_strategy::token, cores);
    EXPECT_TRUE(v::is_contention_reference(p, token_reference, cores));
    EXPECT_FALSE(v::is_contention_reference(p, {taskpipe::execution_strategy::token, cores, 8}, cores));
    EXPECT_FALSE(v::is_contention_reference(p, {taskpipe::execution_strategy::farm, cores, 16}, cores));
    EXPECT_EQ(v::is_contention_reference(p, {taskpipe::execution_strategy::pinned, cores, 16}, cores),
              p.pinned_reference_throughput > 0);
  } else {
    EXPECT_EQ(p.stages[1].shared_mean_ns, 0.0);
  }
}

TEST(stream_verdict, measures_the_top_candidates_and_recommends_a_measured_one) {
  const auto w = small_chain();
  std::vector<std::string> steps;
  const auto r = v::compare(
      [&](taskpipe::executor& ex, const taskpipe::pipeline_options& o) { return v::make_synthetic_pipeline(ex, w, o); },
      {.max_workers = 2, .top = 3, .repetitions = 1, .progress = [&](const std::string& what, double) {
         steps.push_back(what);
       }});
  const auto measured =
      std::count_if(r.rows.begin(), r.rows.end(), [](const v::stream_row& row) { return row.measured.has_value(); });
  EXPECT_EQ(measured, 3);
  ASSERT_LT(r.recommended, r.rows.size());
  ASSERT_TRUE(r.rows[r.recommended].measured.has_value());
  // Predictions are ranked best first.
  for (std::size_t i = 1; i < r.rows.size(); ++i) {
    EXPECT_GE(r.rows[i - 1].predicted.throughput, r.rows[i].predicted.throughput);
  }
  // The pick is never more than 3 % slower than the measured best; without a tie it is the best.
  for (const auto& row : r.rows) {
    if (row.measured) {
      EXPECT_GE(r.rows[r.recommended].measured->throughput, 0.97 * row.measured->throughput);
    }
  }
  if (!r.tied) {
    for (const auto& row : r.rows) {
      if (row.measured) {
        EXPECT_LE(row.measured->throughput, r.rows[r.recommended].measured->throughput);
      }
    }
  }
  EXPECT_GT(r.baseline_throughput, 0.0);
  EXPECT_NE(r.verdict.find("Use "), std::string::npos);
  EXPECT_EQ(steps.front(), "calibrating");
  EXPECT_EQ(steps.back(), "done");
  // Every calibration is accounted for, and every measurement says the machine it ran on; a calibration after the
  // first is made only when a probe found the machine changed, and predicts the rows measured after it.
  ASSERT_FALSE(r.calibrations.empty());
  EXPECT_EQ(r.calibrations.front().found_ns, 0.0);
  EXPECT_EQ(r.calibrations.front().profile.core_round_trip_ns, r.profile.core_round_trip_ns);
  EXPECT_LE(r.calibrations.size(), 3U);
  for (std::size_t k = 1; k < r.calibrations.size(); ++k) {
    for (std::size_t j = 0; j < k; ++j) {  // a new regime: unlike every calibration before it
      EXPECT_TRUE(v::core_latency_changed(r.calibrations[j].profile.core_round_trip_ns, r.calibrations[k].found_ns));
    }
    EXPECT_FALSE(r.calibrations[k].before.empty());
  }
  for (const auto& row : r.rows) {
    EXPECT_LT(row.calibration, r.calibrations.size());
    if (row.measured && std::thread::hardware_concurrency() > 1) {
      EXPECT_GT(row.measured->core_round_trip_before_ns, 0.0);
      EXPECT_GT(row.measured->core_round_trip_after_ns, 0.0);
    }
  }
}

TEST(stream_verdict, runs_pinned_on_its_budget_of_workers) {
  // A source, three parallel stages and a sink: a thread per stage would be 5 threads on a budget of 2.
  v::chain_workload w;
  w.items = 400;
  w.stages = {{"read", taskpipe::serial_in_order, 5, 0, 0, 64},
              {"a", taskpipe::parallel, 20, 0, 0, 64},
              {"b", taskpipe::parallel, 20, 0, 0, 64},
              {"c", taskpipe::parallel, 20, 0, 0, 64},
              {"write", taskpipe::serial_in_order, 5, 0, 0, 64}};
  const auto r = v::compare(
      [&](taskpipe::executor& ex, const taskpipe::pipeline_options& o) { return v::make_synthetic_pipeline(ex, w, o); },
      {.max_workers = 2, .top = 64, .repetitions = 1});
  std::size_t pinned = 0;
  for (const auto& row : r.rows) {
    const auto& c = row.predicted.candidate;
    if (c.strategy != taskpipe::execution_strategy::pinned || !row.measured) {
      continue;
    }
    ++pinned;
    EXPECT_GE(row.measured->threads, 1U) << c.label();
    EXPECT_LE(row.measured->threads, c.workers) << c.label();
    EXPECT_LE(row.predicted.threads, c.workers) << c.label();
    // The run placed the stages where the model assumed.
    EXPECT_EQ(row.measured->placement, row.predicted.placement) << c.label();
  }
  EXPECT_GT(pinned, 0U);
}

TEST(stream_verdict, refuses_options_out_of_range) {
  const auto w = small_chain();
  const v::chain_factory make = [&](taskpipe::executor& ex, const taskpipe::pipeline_options& o) {
    return v::make_synthetic_pipeline(ex, w, o);
  };
  EXPECT_THROW((void)v::compare(make, {.top = 0}), taskpipe::invalid_argument);
  EXPECT_THROW((void)v::compare(make, {.repetitions = 101}), taskpipe::invalid_argument);
  EXPECT_THROW((void)v::compare(make, {.max_workers = 1000}), taskpipe::invalid_argument);
}
