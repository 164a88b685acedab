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

  // Pinned on a budget of one thread: that thread runs the whole chain, 10 us an item.
  const auto pinned1 = v::predict(p, {execution_strategy::pinned, 1, 16}, 2);
  EXPECT_EQ(pinned1.threads, 1U);
  EXPECT_NEAR(pinned1.throughput, 1.0 / 10e-6, 1e-3);
  EXPECT_EQ(pinned1.bound, v::stream_bound::stage_threads);
  EXPECT_EQ(pinned1.bound_stage, 0U);
  EXPECT_EQ(pinned1.bound_last, 2U);
  EXPECT_EQ(pinned1.bound_text(p), "threads of 'read+parse+write' (1)");
  EXPECT_EQ(pinned1.placement, "read+parse+write: thread 0");

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
  // Two threads: 'read' and 'write' own one each and both help run 'parse'; the one that owns 'write' holds its state.
  const auto pinned = v::predict(p, {execution_strategy::pinned, 2, 16}, 2);
  EXPECT_EQ(pinned.threads, 2U);
  EXPECT_EQ(pinned.memory_per_worker, 16U * 100U / 2U + (1U << 20U));
  // Parse's state is held by every helping thread, beside the state of the thread's own segment.
  auto with_parse_state = p;
  with_parse_state.stages[1].state_bytes = 4096;
  EXPECT_EQ(v::predict(with_parse_state, {execution_strategy::pinned, 2, 16}, 2).memory_per_worker,
            16U * 100U / 2U + (1U << 20U) + 4096U);
}

namespace {

// read 1 us, parse 4 us, count 2 us, write 1 us, with a pinned hand-off of 100 ns per segment.
v::chain_profile four_stages(taskpipe::stage_mode middle) {
  v::chain_profile p;
  p.stages = {{"read", taskpipe::serial_in_order, 1000, 0.0, 0, 100},
              {"parse", middle, 4000, 0.0, 0, 100},
              {"count", middle, 2000, 0.0, 0, 100},
              {"write", taskpipe::serial_in_order, 1000, 0.0, 0, 100}};
  p.handoff_ns[static_cast<std::size_t>(execution_strategy::pinned)] = 100;
  return p;
}

}  // namespace

TEST(stream_model, pinned_on_two_workers_predicts_the_fused_placement_of_a_serial_chain) {
  // Four serial stages on two threads: the least bottleneck is read+parse (5 us) | count+write (3 us), each on one
  // thread; read+parse pays one hand-off, so 1 / 5.1 us. The cores would give 2 / (8 us + 2 hand-offs) = 1 / 4.1 us.
  const auto p = four_stages(taskpipe::serial_in_order);
  const auto r = v::predict(p, {execution_strategy::pinned, 2, 16}, 2);
  EXPECT_EQ(r.threads, 2U);
  EXPECT_EQ(r.placement, "read+parse: thread 0 | count+write: thread 1");
  EXPECT_NEAR(r.throughput, 1.0 / 5.1e-6, 1e-3 / 5.1e-6);
  EXPECT_EQ(r.bound, v::stream_bound::stage_threads);
  EXPECT_EQ(r.bound_text(p), "threads of 'read+parse' (1)");
  // The source's own thread is the slowest: the queues behind it stay empty, and an item takes the idle chain's
  // time, 8 us of stages and two hand-offs.
  EXPECT_NEAR(r.latency_p50_ns, 8200, 1);
  // The placement is the library's own.
  EXPECT_EQ(v::pinned_layout(p, 2).size(), 2U);
}

TEST(stream_model, pinned_on_one_thread_pays_the_one_thread_hand_off) {
  // One worker: one segment, every item stays on one thread; it pays the one-thread hand-off (30 ns), not the one
  // between threads (100 ns): 1 / (8 us + 30 ns).
  auto p = four_stages(taskpipe::serial_in_order);
  p.pinned_solo_handoff_ns = 30;
  const auto one = v::predict(p, {execution_strategy::pinned, 1, 16}, 2);
  EXPECT_EQ(one.threads, 1U);
  EXPECT_NEAR(one.throughput, 1.0 / 8.03e-6, 1e-3 / 8.03e-6);
  // Two segments still pay the hand-off between threads.
  EXPECT_NEAR(v::predict(p, {execution_strategy::pinned, 2, 16}, 2).throughput, 1.0 / 5.1e-6, 1e-3 / 5.1e-6);
}

TEST(stream_model, pinned_on_two_workers_predicts_the_helped_placement_of_a_parallel_middle) {
  // read | parse+count | write on two threads: read and write own a thread each, and both threads help run the
  // parallel middle. Bounded by the cores: 2 / (8 us + 3 hand-offs) = 1 / 4.15 us (the heaviest serial run, 1.1 us,
  // is far from binding).
  const auto p = four_stages(taskpipe::parallel);
  const auto r = v::predict(p, {execution_strategy::pinned, 2, 16}, 2);
  EXPECT_EQ(r.threads, 2U);
  EXPECT_EQ(r.placement, "read: thread 0 | parse+count: threads 0-1 helping | write: thread 1");
  EXPECT_NEAR(r.throughput, 1.0 / 4.15e-6, 1e-3 / 4.15e-6);
  EXPECT_EQ(r.bound, v::stream_bound::cores);
  // On four workers every stage has a thread of its own (parse 4 us, count 2 us, one hand-off each): parse bounds.
  const auto four = v::predict(p, {execution_strategy::pinned, 4, 16}, 8);
  EXPECT_EQ(four.threads, 4U);
  EXPECT_NEAR(four.throughput, 1.0 / 4.1e-6, 1e-3 / 4.1e-6);
  EXPECT_EQ(four.bound, v::stream_bound::stage_threads);
  EXPECT_EQ(four.bound_text(p), "threads of stage 'parse' (1)");
}

TEST(stream_model, contention_under_load_adds_to_the_saturated_bounds_only) {
  // read 1 us, parse 2 us, write 1 us, hand-off 0; under load each hand-off on several workers costs 0.5 us more.
  auto p = three_stages(1000, 2000);
  p.shared_handoff_extra_ns = 500;
  // Cores: 2 / (4 us + 3 x 0.5 us) = 1 / 2.75 us.
  const auto loaded = v::predict(p, {execution_strategy::token, 2, 16}, 2);
  EXPECT_NEAR(loaded.throughput, 1.0 / 2.75e-6, 1e-3 / 2.75e-6);
  EXPECT_EQ(loaded.bound, v::stream_bound::cores);
  // One item in flight is never contended: the idle chain's 4 us.
  EXPECT_NEAR(v::predict(p, {execution_strategy::token, 2, 1}, 2).throughput, 1.0 / 4e-6, 1e-3 / 4e-6);
  // One worker has nobody to contend with, and pays its own one-worker hand-off (50 ns a stage): 1 / 4.15 us.
  p.handoff_ns[0] = 300;
  p.handoff_one_worker_ns[0] = 50;
  EXPECT_NEAR(v::predict(p, {execution_strategy::token, 1, 16}, 2).throughput, 1.0 / 4.15e-6, 1e-3 / 4.15e-6);
  // The write stage at 5 us binds with its hand-off and the contention, 1 / (5 + 0.3 + 0.5) us (the cores would give
  // 2 / (8 us + 3 x 0.8 us) = 1 / 5.2 us).
  p.stages[2].shared_mean_ns = 5000;
  const auto serial = v::predict(p, {execution_strategy::token, 2, 16}, 2);
  EXPECT_NEAR(serial.throughput, 1.0 / 5.8e-6, 1e-3 / 5.8e-6);
  EXPECT_EQ(serial.bound, v::stream_bound::serial_stage);
}

TEST(stream_model, steady_stages_queue_less_than_exponential_ones) {
  // Two serial stages of 1 us, two tokens. Exponential service times (spread 1): by mean-value analysis one token
  // alone goes round in 2 us; with two each stage holds half a token on average and an arriving one waits a whole
  // service for it, 1.5 us a stage, 2 / 3 us. Steady ones (spread 0) wait only the half service left on average:
  // 1.25 us a stage, 2 / 2.5 us.
  v::chain_profile p;
  p.stages = {{"read", taskpipe::serial_in_order, 1000, 1.0, 0, 8},
              {"write", taskpipe::serial_in_order, 1000, 1.0, 0, 8}};
  EXPECT_NEAR(v::predict(p, {execution_strategy::token, 2, 2}, 2).throughput, 2.0 / 3e-6, 1e-3 / 1.5e-6);
  for (auto& s : p.stages) {
    s.spread = 0;
  }
  const auto steady = v::predict(p, {execution_strategy::token, 2, 2}, 2);
  EXPECT_NEAR(steady.throughput, 2.0 / 2.5e-6, 1e-3 / 1.25e-6);
  EXPECT_EQ(steady.bound, v::stream_bound::tokens);
}

TEST(stream_model, pinned_contention_counts_only_between_threads) {
  // Four serial stages on two threads (read+parse 5 us | count+write 3 us, hand-off 100 ns): with 0.4 us of contention
  // per segment, read+parse gives 1 / 5.5 us; one thread (one segment) pays none: 1 / (8 us + 30 ns).
  auto p = four_stages(taskpipe::serial_in_order);
  p.pinned_handoff_extra_ns = 400;
  p.pinned_solo_handoff_ns = 30;
  EXPECT_NEAR(v::predict(p, {execution_strategy::pinned, 2, 16}, 2).throughput, 1.0 / 5.5e-6, 1e-3 / 5.5e-6);
  EXPECT_NEAR(v::predict(p, {execution_strategy::pinned, 1, 16}, 2).throughput, 1.0 / 8.03e-6, 1e-3 / 8.03e-6);
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
