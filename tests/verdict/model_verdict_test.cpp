#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "taskpipe/error.hpp"
#include "taskpipe/verdict/model_candidates.hpp"
#include "taskpipe/verdict/model_prediction.hpp"
#include "taskpipe/verdict/model_verdict.hpp"

namespace v = taskpipe::verdict;
namespace pp = taskpipe::pp;
using taskpipe::train::strategy;

namespace {

// The tiny preset's shape (2 blocks: 4 layers with the embedding and the head), 8 rows of 16 tokens, 2 workers.
v::model_workload tiny_workload(int workers = 2, double limit = 0) {
  v::model_workload w;
  w.config = {.vocab = 256, .context = 64, .embd = 64, .layers = 2, .heads = 4};
  w.batch = 8;
  w.seq = 16;
  w.workers = workers;
  w.memory_per_worker = limit;
  return w;
}

// A profile written by hand: every layer costs 1 ms F, 2 ms B and 1 ms W per row, no fixed part, 1000 parameter
// bytes and 100 activation bytes per row; the optimizer 1 us and the gradient sum 0.5 us per byte; free transport.
v::model_profile hand_profile(int workers) {
  v::model_profile p;
  for (int l = 0; l < 4; ++l) {
    p.fixed.push_back({.f = 0, .b = 0, .w = 0, .parameter_bytes = 1000, .activation_bytes = 0});
    p.per_row.push_back({.f = 1e-3, .b = 2e-3, .w = 1e-3, .parameter_bytes = 0, .activation_bytes = 100});
  }
  p.parameter_bytes = 4000;
  p.optimizer_seconds_per_byte = 1e-6;
  p.reduce_seconds_per_byte = 0.5e-6;
  p.intra_op_speedup = 1.6;
  p.effective_cores = workers;
  p.workers = workers;
  return p;
}

v::model_candidate find(const std::vector<v::model_candidate>& all, strategy kind, pp::kind k, int m) {
  for (const auto& c : all) {
    if (c.kind == kind &&
        (kind == strategy::task || kind == strategy::data || (c.schedule == k && c.microbatches == m))) {
      return c;
    }
  }
  ADD_FAILURE() << "no candidate " << taskpipe::train::to_string(kind) << " " << pp::kind_name(k) << " M=" << m;
  return {};
}

}  // namespace

TEST(model_candidates, every_kind_on_exactly_the_workers_and_only_layouts_the_batch_takes) {
  const auto w = tiny_workload();
  const auto all = v::model_candidates(w);
  std::set<pp::kind> kinds;
  for (const auto& c : all) {
    EXPECT_EQ(c.workers(), 2) << c.label();
    EXPECT_NE(c.kind, strategy::hybrid) << "two workers leave no room for D, P >= 2: " << c.label();
    if (c.kind == strategy::pipeline) {
      kinds.insert(c.schedule);
      EXPECT_EQ(w.batch % (c.replicas * c.microbatches), 0) << c.label();
      EXPECT_GE(c.microbatches, c.ranks) << c.label();
      EXPECT_LE(c.microbatches, 8 * c.ranks) << c.label();
      EXPECT_NO_THROW((void)pp::make_schedule(c.schedule, {.ranks = c.ranks, .microbatches = c.microbatches}));
    }
  }
  EXPECT_EQ(kinds.size(), pp::all_kinds().size()) << "every schedule kind fits 4 layers on 2 ranks";
  EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const auto& c) { return c.kind == strategy::task; }), 1);
  EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const auto& c) { return c.kind == strategy::data; }), 1);
  // M = 16 does not divide a batch of 8; dualpipe-v needs M >= 2P.
  for (const auto& c : all) {
    EXPECT_NE(c.microbatches, 16) << c.label();
    EXPECT_FALSE(c.schedule == pp::kind::dualpipe_v && c.kind == strategy::pipeline && c.microbatches < 4);
  }
}

TEST(model_candidates, four_workers_add_hybrids_and_one_block_refuses_deep_pipelines) {
  const auto four = v::model_candidates(tiny_workload(4));
  EXPECT_TRUE(std::any_of(four.begin(), four.end(),
                          [](const auto& c) { return c.kind == strategy::hybrid && c.replicas == 2 && c.ranks == 2; }));
  auto shallow = tiny_workload(4);
  shallow.config.layers = 1;  // 3 layers: no pipeline of 4 ranks
  for (const auto& c : v::model_candidates(shallow)) {
    EXPECT_NE(c.kind, strategy::pipeline) << c.label();
  }
  EXPECT_THROW((void)v::model_candidates(tiny_workload(65)), taskpipe::invalid_argument);
}

TEST(model_prediction, matches_a_hand_computation) {
  const auto w = tiny_workload();
  const auto p = hand_profile(2);
  const auto all = v::model_candidates(w);

  // task on 2 threads: 4 layers x 4 ms x 8 rows / 1.6, plus the optimizer over 4000 bytes.
  const auto task = v::predict_model(w, p, find(all, strategy::task, pp::kind::gpipe, 1));
  EXPECT_NEAR(task.step_seconds, 4 * 4e-3 * 8 / 1.6 + 4000 * 1e-6, 1e-12);
  EXPECT_DOUBLE_EQ(task.memory_per_worker, 4 * 4000 + 4 * 100 * 8);

  // dp x2: one replica on 4 rows, then 3 passes of the gradient sum and the optimizer over both replicas.
  const auto dp = v::predict_model(w, p, find(all, strategy::data, pp::kind::gpipe, 1));
  EXPECT_NEAR(dp.step_seconds, 4 * 4e-3 * 4 + 3 * 4000 * 0.5e-6 + 2 * 4000 * 1e-6, 1e-12);
  EXPECT_DOUBLE_EQ(dp.memory_per_worker, 4 * 4000 + 4 * 100 * 4);

  // pp x2 gpipe M=2: two layers per rank, 4 rows per micro-batch: F = 8 ms, B + W = 24 ms per stage; GPipe takes
  // (M + P - 1)(F + B + W) = 3 x 32 ms; the optimizer covers the 4000 bytes once. Each rank holds both micro-batches
  // of its stage (2 x 2 layers x 100 x 4 rows) and 2000 parameter bytes.
  const auto gpipe = v::predict_model(w, p, find(all, strategy::pipeline, pp::kind::gpipe, 2));
  ASSERT_EQ(gpipe.bounds, (std::vector<std::size_t>{0, 2, 4}));
  EXPECT_NEAR(gpipe.step_seconds, 3 * 32e-3 + 4000 * 1e-6, 1e-12);
  EXPECT_DOUBLE_EQ(gpipe.memory_per_worker, 4 * 2000 + 2 * (2 * 100 * 4));
  EXPECT_TRUE(gpipe.fits);

  // 1f1b M=8 (1 row each): rank 0 holds 2 micro-batches, the same makespan formula (M + P - 1)(F + B + W).
  const auto one_f_one_b = v::predict_model(w, p, find(all, strategy::pipeline, pp::kind::one_f_one_b, 8));
  EXPECT_NEAR(one_f_one_b.step_seconds, 9 * 8e-3 + 4000 * 1e-6, 1e-12);
  EXPECT_DOUBLE_EQ(one_f_one_b.memory_per_worker, 4 * 2000 + 2 * (2 * 100 * 1));
}

TEST(model_profile, workers_slow_each_other_by_the_larger_of_the_shared_cores_and_the_measured_co_run) {
  auto p = hand_profile(2);
  p.hardware_threads = 2;
  p.corun_slowdown = 1.3;  // two layers at once run 30 % slower than one alone
  EXPECT_DOUBLE_EQ(p.slowdown(1), 1.0);
  EXPECT_DOUBLE_EQ(p.slowdown(2), 1.3);
  EXPECT_DOUBLE_EQ(p.slowdown(4), 2.6);  // 4 workers on 2 hardware threads: twice the co-run figure
  p.effective_cores = 1.25;              // another process takes 3/4 of a core: the cores' share, 1.6, decides
  EXPECT_DOUBLE_EQ(p.slowdown(2), 1.6);

  // pp x2 gpipe M=2 as in the hand computation, each stage's passes 1.3 x slower; the optimizer is not.
  const auto w = tiny_workload();
  p.effective_cores = 2;
  const auto gpipe = v::predict_model(w, p, find(v::model_candidates(w), strategy::pipeline, pp::kind::gpipe, 2));
  EXPECT_NEAR(gpipe.step_seconds, 3 * 32e-3 * 1.3 + 4000 * 1e-6, 1e-12);
}

TEST(model_prediction, a_parallel_step_pays_for_the_threads_it_starts_and_task_does_not) {
  // 1 ms to start a thread: pp x2 starts a replica thread and its 2 ranks' (3 ms), dp x2 two replica threads and
  // each replica's one rank (3 ms); task runs on an executor already started.
  const auto w = tiny_workload();
  auto p = hand_profile(2);
  const auto all = v::model_candidates(w);
  const auto before_task = v::predict_model(w, p, find(all, strategy::task, pp::kind::gpipe, 1));
  const auto before_dp = v::predict_model(w, p, find(all, strategy::data, pp::kind::gpipe, 1));
  const auto before_pp = v::predict_model(w, p, find(all, strategy::pipeline, pp::kind::gpipe, 2));
  p.thread_start_seconds = 1e-3;
  EXPECT_DOUBLE_EQ(v::predict_model(w, p, find(all, strategy::task, pp::kind::gpipe, 1)).step_seconds,
                   before_task.step_seconds);
  EXPECT_NEAR(v::predict_model(w, p, find(all, strategy::data, pp::kind::gpipe, 1)).step_seconds,
              before_dp.step_seconds + 3e-3, 1e-12);
  EXPECT_NEAR(v::predict_model(w, p, find(all, strategy::pipeline, pp::kind::gpipe, 2)).step_seconds,
              before_pp.step_seconds + 3e-3, 1e-12);
}

TEST(model_prediction, clipping_covers_one_replicas_gradients_while_adamw_and_the_zeroing_cover_every_replicas) {
  // The trainers clip replica 0's gradients and copy them to the others (the copies are the gradient sum's passes),
  // but every replica zeroes its gradients and steps its own AdamW.
  const auto w = tiny_workload();
  auto p = hand_profile(2);
  p.optimizer_seconds_per_byte = 0;
  p.clip_seconds_per_byte = 2e-6;
  p.zero_seconds_per_byte = 0.25e-6;
  const auto all = v::model_candidates(w);
  const auto task = v::predict_model(w, p, find(all, strategy::task, pp::kind::gpipe, 1));
  EXPECT_NEAR(task.tail_seconds, 4000 * 2e-6 + 4000 * 0.25e-6, 1e-12);
  const auto dp = v::predict_model(w, p, find(all, strategy::data, pp::kind::gpipe, 1));
  EXPECT_NEAR(dp.tail_seconds, 3 * 4000 * 0.5e-6 + 4000 * 2e-6 + 2 * 4000 * 0.25e-6, 1e-12);
}

TEST(model_prediction, a_dp_replica_holds_the_heads_wte_copy_and_one_task_model_does_not) {
  // The head layer's 1500 parameter bytes include a 500-byte wte copy: the whole model is 4000 bytes with wte once.
  const auto w = tiny_workload();
  auto p = hand_profile(2);
  p.fixed[3].parameter_bytes = 1500;
  const auto all = v::model_candidates(w);
  const auto task = v::predict_model(w, p, find(all, strategy::task, pp::kind::gpipe, 1));
  EXPECT_DOUBLE_EQ(task.state_bytes_per_worker, 4 * 4000);
  const auto dp = v::predict_model(w, p, find(all, strategy::data, pp::kind::gpipe, 1));
  EXPECT_DOUBLE_EQ(dp.state_bytes_per_worker, 4 * 4500);
  EXPECT_DOUBLE_EQ(dp.memory_per_worker, 4 * 4500 + 4 * 100 * 4);
  EXPECT_NEAR(dp.tail_seconds, 3 * 4000 * 0.5e-6 + 2 * 4500 * 1e-6, 1e-12);
}

TEST(model_prediction, a_rank_with_two_unequal_stages_is_charged_each_stages_own_bytes) {
  // zb-v on 2 ranks cuts the 4 layers into 4 stages and puts stages 0 and 3 on rank 0. Layer 3 keeps 10x the
  // activations of the others: charging every micro-batch rank 0 holds at stage 3's size (the partition's figure)
  // over-counts; the prediction adds what the schedule holds stage by stage, as the simulator counts it.
  const auto w = tiny_workload();
  auto p = hand_profile(2);
  p.per_row[3].activation_bytes = 1000;
  const auto c = find(v::model_candidates(w), strategy::pipeline, pp::kind::zb_v, 4);
  const auto r = v::predict_model(w, p, c);
  ASSERT_EQ(r.bounds, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  const double rows = 2;  // 8 rows in 4 micro-batches
  const pp::simulation count = pp::simulate(r.schedule, pp::costs::uniform({}));
  const double largest_stage_figure = 4 * 2000 + count.peak_activations_until_w(0) * 1000 * rows;
  EXPECT_LT(r.memory_per_worker, largest_stage_figure);
  // The peak holds at least one micro-batch of stage 3 and one of stage 0 together.
  EXPECT_GE(r.memory_per_worker, 4 * 2000 + (1000 + 100) * rows);
}

TEST(model_prediction, a_tight_limit_rules_out_data_parallelism_with_the_reason) {
  // 12000 bytes per worker: a whole replica needs 16000 of parameters, gradients and AdamW state alone.
  const auto w = tiny_workload(2, 12000);
  const auto p = hand_profile(2);
  bool some_pipeline_fits = false;
  for (const auto& c : v::model_candidates(w)) {
    const auto r = v::predict_model(w, p, c);
    if (c.kind == strategy::data || c.kind == strategy::task) {
      EXPECT_FALSE(r.fits) << c.label();
      EXPECT_NE(r.reason.find("per worker"), std::string::npos) << r.reason;
    }
    EXPECT_EQ(r.fits, r.memory_per_worker <= 12000) << c.label() << ": " << r.memory_per_worker;
    some_pipeline_fits = some_pipeline_fits || (c.kind == strategy::pipeline && r.fits);
  }
  EXPECT_TRUE(some_pipeline_fits);
}

TEST(model_verdict, never_recommends_what_does_not_fit_and_picks_a_pipeline_when_dp_cannot) {
  auto w = tiny_workload();
  w.batch = 4;
  const double state = 4.0 * static_cast<double>(w.config.parameter_count() * sizeof(float));
  w.memory_per_worker = 0.75 * state;
  const auto r = v::compare_model(w, {.top = 2, .steps = 1});
  ASSERT_TRUE(r.baseline.measured);
  EXPECT_FALSE(r.baseline.predicted.fits);
  bool dp_listed = false;
  for (const auto& row : r.rows) {
    if (!row.predicted.fits) {
      EXPECT_FALSE(row.measured) << row.predicted.candidate.label();
      EXPECT_FALSE(row.predicted.reason.empty());
    }
    if (row.predicted.candidate.kind == strategy::data) {
      dp_listed = true;
      EXPECT_FALSE(row.predicted.fits);
    }
  }
  EXPECT_TRUE(dp_listed);
  const auto* pick = r.pick();
  ASSERT_NE(pick, nullptr) << r.verdict;
  EXPECT_TRUE(pick->predicted.fits);
  EXPECT_EQ(pick->predicted.candidate.kind, strategy::pipeline) << r.verdict;
  EXPECT_NE(r.verdict.find("dp x2 does not fit"), std::string::npos) << r.verdict;
  ASSERT_TRUE(pick->error());
  EXPECT_GT(pick->measured->peak_bytes, 0);
}

TEST(model_verdict, with_no_limit_everything_fits_and_the_measured_best_wins) {
  auto w = tiny_workload();
  w.batch = 4;
  const auto r = v::compare_model(w, {.top = 2, .steps = 1});
  const auto* pick = r.pick();
  ASSERT_NE(pick, nullptr);
  for (const auto& row : r.rows) {
    EXPECT_TRUE(row.predicted.fits) << row.predicted.candidate.label();
    if (row.measured && !r.tied) {
      EXPECT_LE(pick->measured->step_seconds, row.measured->step_seconds * 1.0000001);
    }
  }
  EXPECT_THROW((void)v::compare_model(w, {.top = 0}), taskpipe::invalid_argument);
}
