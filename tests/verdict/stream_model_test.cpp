#include "taskpipe/verdict/stream_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace v = taskpipe::verdict;
using taskpipe::execution_strategy;

namespace {

// source 1 us (serial), parse 8 us (parallel), write 1 us (serial): one item takes 10 us through an idle chain.
v::chain_profile three_stages(double source_ns = 1000, double parse_ns = 8000) {
  v::chain_profile p;
  p.stages = {{"read", taskpipe::serial_in_order, source_ns, 0.0, 0, 100},
              {"parse", taskpipe::parallel, parse_ns, 0.5, 0, 100},
              {"write", taskpipe::serial_in_order, 1000, 0.0, 1 << 20, 100}};
  return p;
}

}  // namespace

TEST(stream_model, each_bound_gives_its_closed_form) {
  const auto p = three_stages();
  const auto token2 = v::predict(p, {execution_strategy::token, 2, 16}, 2);
  EXPECT_NEAR(token2.throughput, 2.0 / 10e-6, 1e-6 * token2.throughput);  // two cores over 10 us of work
  EXPECT_EQ(token2.bound, v::stream_bound::cores);

  const auto token1 = v::predict(p, {execution_strategy::token, 2, 1}, 2);
  EXPECT_NEAR(token1.throughput, 1.0 / 10e-6, 1e-3);  // one item alive at a time
  EXPECT_EQ(token1.bound, v::stream_bound::tokens);

  const auto pinned1 = v::predict(p, {execution_strategy::pinned, 1, 16}, 2);
  EXPECT_EQ(pinned1.threads, 3U);
  EXPECT_NEAR(pinned1.throughput, 1.0 / 8e-6, 1e-3);  // parse owns one thread
  EXPECT_EQ(pinned1.bound, v::stream_bound::stage_threads);
  EXPECT_EQ(pinned1.bound_stage, 1U);

  // read 6 us, parse 2 us, write 1 us: the cores could do 2 / 9 us, the source only 1 / 6 us.
  const auto slow_source = v::predict(three_stages(6000, 2000), {execution_strategy::token, 2, 16}, 2);
  EXPECT_NEAR(slow_source.throughput, 1.0 / 6e-6, 1e-3);
  EXPECT_EQ(slow_source.bound, v::stream_bound::serial_stage);
  EXPECT_EQ(slow_source.bound_stage, 0U);
  EXPECT_EQ(slow_source.bound_text(three_stages()), "serial stage 'read'");
}

TEST(stream_model, token_and_farm_on_several_workers_take_the_stage_times_measured_on_several_workers) {
  // read 1 us, parse 2 us, write 1 us: two cores do 2 / 4 us.
  auto p = three_stages(1000, 2000);
  const auto alone = v::predict(p, {execution_strategy::token, 2, 16}, 2);
  // On two workers the write stage's state crosses cores: it takes 4 us there, not 1, and bounds the chain at 1 / 4 us
  // (the cores would do 2 / 7 us).
  p.stages[2].shared_mean_ns = 4000;
  const auto shared = v::predict(p, {execution_strategy::token, 2, 16}, 2);
  EXPECT_NEAR(shared.throughput, 1.0 / 4e-6, 1e-6 * shared.throughput);
  EXPECT_EQ(shared.bound, v::stream_bound::serial_stage);
  EXPECT_EQ(shared.bound_stage, 2U);
  EXPECT_LT(shared.throughput, alone.throughput);
  // One worker keeps everything on one core, and pinned keeps each serial stage's state on its thread: both take the
  // one-worker times.
  EXPECT_EQ(v::predict(p, {execution_strategy::token, 1, 16}, 2).throughput,
            v::predict(three_stages(1000, 2000), {execution_strategy::token, 1, 16}, 2).throughput);
  EXPECT_EQ(v::predict(p, {execution_strategy::pinned, 2, 16}, 2).throughput,
            v::predict(three_stages(1000, 2000), {execution_strategy::pinned, 2, 16}, 2).throughput);
}

TEST(stream_model, a_shared_machine_bounds_by_the_cores_it_gives) {
  auto p = three_stages();
  p.effective_cores = 1.5;  // another process holds half a core
  const auto token2 = v::predict(p, {execution_strategy::token, 2, 16}, 2);
  EXPECT_NEAR(token2.throughput, 1.5 / 10e-6, 1e-6 * token2.throughput);
  EXPECT_EQ(token2.bound_text(p), "cores (1.5 busy)");
  const auto token1 = v::predict(p, {execution_strategy::token, 1, 16}, 2);  // one worker needs one core only
  EXPECT_NEAR(token1.throughput, 1.0 / 10e-6, 1e-6 * token1.throughput);
}

TEST(stream_model, latency_follows_littles_law_once_the_tokens_fill) {
  const auto p = three_stages();
  const auto full = v::predict(p, {execution_strategy::token, 2, 16}, 2);
  // 16 items alive at 200 000 items/s: each spends 80 us in the chain.
  EXPECT_NEAR(full.latency_p50_ns, 80'000, 1);
  // p99 adds 2.33 standard deviations of the chain's time: parse's 0.5 x 8 us.
  EXPECT_NEAR(full.latency_p99_ns, 80'000 + 2.33 * 4000, 1);
  // A source-bound chain never fills its tokens: an item takes its idle time through.
  const auto source_bound = v::predict(three_stages(6000, 2000), {execution_strategy::token, 2, 16}, 2);
  EXPECT_NEAR(source_bound.latency_p50_ns, 9'000, 1);
}

TEST(stream_model, memory_per_worker_counts_the_state_a_worker_touches) {
  const auto p = three_stages();
  const auto token = v::predict(p, {execution_strategy::token, 2, 16}, 2);
  EXPECT_EQ(token.memory_per_worker, 16U * 100U / 2U + (1U << 20U));  // any worker may run 'write'
  const auto pinned = v::predict(p, {execution_strategy::pinned, 2, 16}, 2);
  EXPECT_EQ(pinned.threads, 4U);
  EXPECT_EQ(pinned.memory_per_worker, 16U * 100U / 4U + (1U << 20U));  // the thread that owns 'write'
}

TEST(stream_model, farm_is_a_candidate_only_when_every_middle_stage_is_parallel) {
  auto p = three_stages();
  const auto with_farm = v::stream_candidates(p, 2);
  EXPECT_TRUE(std::any_of(with_farm.begin(), with_farm.end(),
                          [](const v::stream_candidate& c) { return c.strategy == execution_strategy::farm; }));
  p.stages[1].mode = taskpipe::serial_out_of_order;
  const auto without = v::stream_candidates(p, 2);
  EXPECT_TRUE(std::none_of(without.begin(), without.end(),
                           [](const v::stream_candidate& c) { return c.strategy == execution_strategy::farm; }));
  // token and pinned; 1 worker with 2, 4, 8 in flight; 2 workers with 2, 4, 8, 16.
  EXPECT_EQ(without.size(), 2U * (3U + 4U));
}
