// The parallel trainer: under pp (zb-h1), dp and hybrid layouts it trains to the one-worker trainer's parameters
// within 1e-5; a checkpoint written under one layout resumes under another (pp -> dp, dp -> task, task -> pp) and
// ends where the uninterrupted one-worker run ends; the plan refuses bad layouts before any work; per-worker times
// and the timeline come from the real run.
#include "taskpipe/train/parallel_trainer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/gpt2.hpp"

namespace nn = taskpipe::nn;
namespace pp = taskpipe::pp;
namespace train = taskpipe::train;

namespace {

nn::gpt2_config tiny() { return {.vocab = 64, .context = 8, .embd = 32, .layers = 2, .heads = 2}; }

constexpr std::uint64_t seed = 7;
constexpr int steps = 4;
constexpr double lr = 3e-3;  // AdamW turns rounding noise in near-zero gradients into lr-sized steps: kept small

train::trainer_options options() {
  // grad_clip small enough that clipping acts, so the global norm over the workers matters.
  return {.adamw = {.lr = lr}, .grad_clip = 0.5, .steps = steps, .batch = 8, .seq = 8};
}

const std::vector<std::uint8_t>& data() {
  static const std::vector<std::uint8_t> d = [] {
    std::vector<std::uint8_t> v;
    std::uint32_t x = 12345;
    for (int i = 0; i < 4000; ++i) {
      x = x * 1664525U + 1013904223U;
      v.push_back(static_cast<std::uint8_t>((x >> 16) % 64U));
    }
    return v;
  }();
  return d;
}

struct layout {
  const char* name;
  train::strategy kind;
  int replicas;
  int ranks;
  pp::kind schedule;
  int microbatches;
};

const layout task{"task", train::strategy::task, 1, 1, pp::kind::gpipe, 0};
const layout pp_zb_h1{"pp2_zb_h1", train::strategy::pipeline, 1, 2, pp::kind::zb_h1, 4};
const layout dp2{"dp2", train::strategy::data, 2, 1, pp::kind::gpipe, 0};
const layout hybrid{"hybrid2x2", train::strategy::hybrid, 2, 2, pp::kind::one_f_one_b, 2};
const layout pp4_1f1b{"pp4_1f1b", train::strategy::pipeline, 1, 4, pp::kind::one_f_one_b, 4};

train::parallel_plan plan(const layout& l) {
  train::plan_request r;
  r.config = tiny();
  r.seed = seed;
  r.batch = options().batch;
  r.seq = options().seq;
  r.kind = l.kind;
  r.replicas = l.replicas;
  r.ranks = l.ranks;
  r.schedule = l.schedule;
  r.microbatches = l.microbatches;
  return train::make_plan(r);
}

using values = std::map<std::string, std::vector<float>>;

values values_of(std::span<nn::parameter* const> params) {
  values out;
  for (const nn::parameter* p : params) {
    out[p->name].assign(p->value.span().begin(), p->value.span().end());
  }
  return out;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()) + ".safetensors")).string();
}

// A training run under layout l from step `from` (resuming `resume_from` when from > 0) up to `until` steps, saving
// to `save_to` when given; returns the parameters.
values run(const layout& l, std::int64_t until, const std::string& resume_from = "", const std::string& save_to = "") {
  std::optional<nn::checkpoint> c;
  if (!resume_from.empty()) {
    c = nn::read_checkpoint(resume_from);
  }
  if (l.kind == train::strategy::task) {
    nn::gpt2 model(tiny(), seed);
    if (c) {
      nn::load_weights(*c, model.parameters());
    }
    train::trainer t(model, data(), options());
    if (c) {
      t.resume(*c);
    }
    while (t.steps_done() < until) {
      t.step();
    }
    if (!save_to.empty()) {
      t.save(save_to);
    }
    return values_of(model.parameters());
  }
  train::parallel_trainer t(tiny(), seed, plan(l), data(), options());
  if (c) {
    t.resume(*c);
  }
  while (t.steps_done() < until) {
    t.step();
  }
  if (!save_to.empty()) {
    t.save(save_to);
  }
  return values_of(t.model().parameters(0));
}

const values& one_worker() {
  static const values v = run(task, steps);
  return v;
}

// Every tensor within 1e-5 relative (L2) of the reference. The key part of c_attn.bias has an exactly-zero gradient in
// exact arithmetic, so its float gradient is rounding noise that AdamW turns into lr-sized steps: it is held to
// 2 x steps x lr instead (as in parallel_test.cpp).
void expect_close(const values& got, const values& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const auto embd = static_cast<std::size_t>(tiny().embd);
  for (const auto& [name, b] : want) {
    const std::vector<float>& a = got.at(name);
    ASSERT_EQ(a.size(), b.size()) << what << ' ' << name;
    const bool attn_bias = name.find("c_attn.bias") != std::string::npos;
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const double e = static_cast<double>(a[i]) - b[i];
      if (attn_bias && i >= embd && i < 2 * embd) {
        EXPECT_LE(std::abs(e), 2 * steps * lr) << what << ' ' << name << ' ' << i;
        continue;
      }
      diff += e * e;
      norm += static_cast<double>(b[i]) * b[i];
    }
    EXPECT_LE(std::sqrt(diff), 1e-5 * std::sqrt(norm)) << what << ' ' << name;
  }
}

class parallel_trainer_layouts : public ::testing::TestWithParam<layout> {};

TEST_P(parallel_trainer_layouts, train_to_the_one_worker_parameters) {
  const layout& l = GetParam();
  const values got = run(l, steps);
  expect_close(got, one_worker(), l.name);
  // Not trivially equal: training moved the parameters away from the init.
  nn::gpt2 init(tiny(), seed);
  EXPECT_NE(values_of(init.parameters()).at("h.0.mlp.c_fc.weight"), got.at("h.0.mlp.c_fc.weight"));
}

INSTANTIATE_TEST_SUITE_P(parallel_trainer, parallel_trainer_layouts, ::testing::Values(pp_zb_h1, dp2, hybrid),
                         [](const ::testing::TestParamInfo<layout>& p) { return std::string(p.param.name); });

TEST(parallel_trainer, a_checkpoint_resumes_under_another_layout_and_ends_as_the_one_worker_run) {
  const std::pair<layout, layout> pairs[] = {
      {pp_zb_h1, dp2}, {pp4_1f1b, dp2}, {dp2, task}, {task, pp_zb_h1}, {hybrid, pp_zb_h1}};
  for (const auto& [from, to] : pairs) {
    const std::string what = std::string(from.name) + " -> " + to.name;
    const std::string path = temp_path(std::string("parallel_resume_") + from.name);
    run(from, steps / 2, "", path);
    const nn::checkpoint c = nn::read_checkpoint(path);
    ASSERT_TRUE(c.position) << what;
    EXPECT_EQ(c.position->step, steps / 2) << what;
    EXPECT_EQ(c.optimizer_step, steps / 2) << what;
    expect_close(run(to, steps, path), one_worker(), what);
    std::filesystem::remove(path);
  }
}

TEST(parallel_trainer, records_each_workers_busy_and_idle_time_and_the_real_timeline) {
  taskpipe::trace::timeline tl;
  train::parallel_trainer t(tiny(), seed, plan(hybrid), data(), options(), &tl);
  t.step();
  t.step();
  ASSERT_EQ(t.worker_times().size(), 4U);
  ASSERT_EQ(tl.tracks.size(), 5U);  // the step's phases, then replica 0 rank 0 .. replica 1 rank 1
  std::map<int, int> slices;
  for (const auto& e : tl.events) {
    ++slices[e.track];
    EXPECT_GE(e.duration, 0) << e.name;
  }
  // hybrid 2 x 2 with 1f1b, 2 micro-batches: per worker and step, 2 F and 2 B.
  for (int track = 1; track <= 4; ++track) {
    EXPECT_EQ(slices[track], 2 * 4) << track;
  }
  EXPECT_EQ(slices[0], 2 * 4);  // data, forward_backward, clip, adamw per step
  for (const train::worker_time& w : t.worker_times()) {
    EXPECT_GT(w.busy, 0) << w.replica << ' ' << w.rank;
    EXPECT_GE(w.idle, 0) << w.replica << ' ' << w.rank;
    const nn::memory_ledger& l = t.model().ledger(w.replica, w.rank);
    EXPECT_GT(l.peak(nn::memory_category::optimizer), 0U);
    EXPECT_GT(l.peak(nn::memory_category::activations), 0U);
  }
}

TEST(parallel_trainer, names_the_step_and_the_layer_where_a_nan_first_appears) {
  const std::string path = temp_path("parallel_nan");
  run(task, 1, "", path);
  nn::checkpoint c = nn::read_checkpoint(path);
  train::parallel_trainer t(tiny(), seed, plan(pp_zb_h1), data(), options());
  t.resume(c);
  for (nn::parameter* p : t.model().parameters(0)) {
    if (p->name == "h.1.ln_2.weight") {
      p->value[0] = std::nanf("");
    }
  }
  try {
    t.step();
    ADD_FAILURE() << "no error";
  } catch (const taskpipe::error& e) {
    EXPECT_NE(std::string(e.what()).find("step 1: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("h.1"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(parallel_plan, refuses_bad_layouts_naming_the_rule) {
  const auto refused = [](const layout& l, int batch, const std::string& needle, double memory = 0) {
    train::plan_request r;
    r.config = tiny();
    r.batch = batch;
    r.seq = 8;
    r.kind = l.kind;
    r.replicas = l.replicas;
    r.ranks = l.ranks;
    r.schedule = l.schedule;
    r.microbatches = l.microbatches;
    r.memory_per_worker = memory;
    try {
      train::make_plan(r);
      ADD_FAILURE() << l.name << ": accepted";
    } catch (const taskpipe::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // 5 ranks for 4 layers (embedding, 2 blocks, head).
  refused({"pp5", train::strategy::pipeline, 1, 5, pp::kind::gpipe, 5}, 10, "more than the model's 4 layers");
  refused({"zbv3", train::strategy::pipeline, 1, 3, pp::kind::zb_v, 3}, 6, "6 stages");
  refused(dp2, 7, "multiple of 2");
  refused(hybrid, 6, "multiple of 4");
  refused({"1f1b_m1", train::strategy::pipeline, 1, 2, pp::kind::one_f_one_b, 1}, 8, "microbatches");
  refused({"dp_with_ranks", train::strategy::data, 2, 2, pp::kind::gpipe, 1}, 8, "one pipeline rank");
  refused(pp_zb_h1, 8, "fits 1000 bytes", 1000);
  // The same layout without the limit is accepted and cuts every layer into a stage.
  const train::parallel_plan p = plan(pp_zb_h1);
  EXPECT_EQ(p.cut.bounds.front(), 0U);
  EXPECT_EQ(p.cut.bounds.back(), 4U);
  EXPECT_EQ(p.rows_per_microbatch, 2U);
}

TEST(layer_costs, profile_times_every_pass_and_flops_count_them) {
  const auto flops = train::measure_layer_costs(tiny(), seed, 2, 8, train::cost_source::flops);
  const auto timed = train::measure_layer_costs(tiny(), seed, 2, 8, train::cost_source::profile);
  ASSERT_EQ(flops.size(), 4U);
  ASSERT_EQ(timed.size(), 4U);
  for (std::size_t i = 1; i < 4; ++i) {  // the blocks and the head run GEMMs in every pass
    EXPECT_GT(flops[i].f, 0) << i;
    EXPECT_GT(flops[i].w, 0) << i;
    EXPECT_GT(timed[i].f, 0) << i;
    EXPECT_GT(timed[i].b, 0) << i;
  }
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(flops[i].parameter_bytes, timed[i].parameter_bytes) << i;
    EXPECT_EQ(flops[i].activation_bytes, timed[i].activation_bytes) << i;
    EXPECT_EQ(flops[i].w_bytes, timed[i].w_bytes) << i;
    EXPECT_EQ(flops[i].work_bytes, timed[i].work_bytes) << i;
    EXPECT_GT(flops[i].parameter_bytes, 0) << i;
    EXPECT_GT(flops[i].work_bytes, 0) << i;  // every pass holds at least the gradient it receives or sends
  }
  // The embedding's F keeps nothing (W reads the token ids again), but its I keeps its output gradient for W: one
  // micro-batch's 2 x 8 rows of 32; the blocks and the head keep their inputs and more after F, and a block keeps its
  // matmuls' output gradients after I.
  EXPECT_EQ(flops[0].activation_bytes, 0);
  EXPECT_EQ(flops[0].w_bytes, 2.0 * 8 * 32 * sizeof(float));
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_GE(flops[i].activation_bytes, 2.0 * 8 * 32 * sizeof(float)) << i;
  }
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_GT(flops[i].w_bytes, 2.0 * 8 * 32 * sizeof(float)) << i;
  }
  EXPECT_THROW(train::parse_cost_source("guess"), taskpipe::invalid_argument);
}

// Profiled with other workers busy alongside: the same layers, bytes and passes, every time measured; a count of
// workers below 1 is refused. (How much slower the passes run then is a benchmark's figure: bench/train_parallel.)
TEST(layer_costs, profile_with_workers_busy_alongside_times_the_same_layers) {
  const auto alone = train::measure_layer_costs(tiny(), seed, 2, 8, train::cost_source::profile, 1, 1);
  const auto busy = train::measure_layer_costs(tiny(), seed, 2, 8, train::cost_source::profile, 1, 3);
  ASSERT_EQ(busy.size(), alone.size());
  for (std::size_t i = 0; i < busy.size(); ++i) {
    EXPECT_EQ(busy[i].parameter_bytes, alone[i].parameter_bytes) << i;
    EXPECT_EQ(busy[i].activation_bytes, alone[i].activation_bytes) << i;
    EXPECT_EQ(busy[i].w_bytes, alone[i].w_bytes) << i;
    if (i > 0) {
      EXPECT_GT(busy[i].f, 0) << i;
      EXPECT_GT(busy[i].b, 0) << i;
      EXPECT_GT(busy[i].w, 0) << i;
    }
  }
  EXPECT_THROW((void)train::measure_layer_costs(tiny(), seed, 2, 8, train::cost_source::profile, 1, 0),
               taskpipe::invalid_argument);
}

}  // namespace
