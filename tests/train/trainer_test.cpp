// The trainer: a tiny model overfits a short text; a run resumed from a checkpoint ends bit-identical to one that
// never stopped (sequential and shuffled, serial and on an executor); NaN and bad options are named.
#include "taskpipe/train/trainer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace nn = taskpipe::nn;
namespace train = taskpipe::train;

namespace {

nn::gpt2_config tiny() { return {.vocab = 256, .context = 16, .embd = 32, .layers = 1, .heads = 2}; }

std::vector<std::uint8_t> text(const std::string& s) { return {s.begin(), s.end()}; }

const std::string short_text = "the quick brown fox jumps over the lazy dog. ";

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()) + ".safetensors")).string();
}

}  // namespace

TEST(trainer, a_tiny_model_overfits_a_short_text) {
  const std::vector<std::uint8_t> data = text(short_text);  // 45 bytes: batch 2 x seq 16 + 1 fits once
  nn::gpt2 model(tiny(), 7);
  train::trainer_options o{.adamw = {.lr = 1e-2, .weight_decay = 0}, .steps = 150, .batch = 2, .seq = 16};
  train::trainer t(model, data, o);
  float loss = 0;
  std::int64_t steps = 0;
  while (!t.done() && (steps == 0 || loss >= 0.05F)) {
    loss = t.step().loss;
    ++steps;
  }
  EXPECT_LT(loss, 0.05F) << "after " << steps << " steps";
  EXPECT_LT(train::evaluate(model, data, 2, 16, 1), 0.05);
}

TEST(trainer, a_resumed_run_ends_bit_identical_to_an_uninterrupted_one) {
  std::string s;
  for (int i = 0; i < 20; ++i) {
    s += short_text + std::to_string(i);
  }
  const std::vector<std::uint8_t> data = text(s);
  for (const bool shuffle : {false, true}) {
    for (const int workers : {0, 2}) {
      std::unique_ptr<taskpipe::executor> ex;
      if (workers > 0) {
        ex = std::make_unique<taskpipe::executor>(
            taskpipe::executor_options{.workers = static_cast<std::size_t>(workers), .spin_before_sleep = {}});
      }
      const train::trainer_options o{
          .warmup = 2, .cosine = true, .steps = 6, .batch = 3, .seq = 16, .shuffle = shuffle, .seed = 5};
      nn::gpt2 straight(tiny(), 3);
      train::trainer a(straight, data, o, ex.get());
      while (!a.done()) {
        a.step();
      }

      nn::gpt2 first(tiny(), 3);
      train::trainer b(first, data, o, ex.get());
      for (int i = 0; i < 3; ++i) {
        b.step();
      }
      const std::string path = temp_path("taskpipe_resume");
      b.save(path);
      const nn::checkpoint c = nn::read_checkpoint(path);
      nn::gpt2 resumed(c.config, 99);  // another init: everything must come from the checkpoint
      nn::load_weights(c, resumed.parameters());
      train::trainer r(resumed, data, o, ex.get());
      r.resume(c);
      EXPECT_EQ(r.steps_done(), 3);
      while (!r.done()) {
        r.step();
      }
      EXPECT_EQ(train::parameter_checksum(resumed.parameters()), train::parameter_checksum(straight.parameters()))
          << "shuffle " << shuffle << ", workers " << workers;
      EXPECT_NE(train::parameter_checksum(first.parameters()), train::parameter_checksum(straight.parameters()));
      std::filesystem::remove(path);
    }
  }
}

TEST(trainer, a_traced_run_gives_the_same_bits_and_times_every_layers_f_b_and_w) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    s += short_text;
  }
  const std::vector<std::uint8_t> data = text(s);
  const train::trainer_options o{.steps = 3, .batch = 2, .seq = 16};
  nn::gpt2 plain(tiny(), 4);
  nn::gpt2 traced(tiny(), 4);
  train::trainer a(plain, data, o);
  taskpipe::trace::timeline tl;
  train::trainer b(traced, data, o, nullptr, nullptr, &tl);
  while (!a.done()) {
    EXPECT_EQ(a.step().loss, b.step().loss);
  }
  EXPECT_EQ(train::parameter_checksum(plain.parameters()), train::parameter_checksum(traced.parameters()));
  int f = 0, bw = 0, phases = 0;
  for (const auto& e : tl.events) {
    f += e.name == "F h.0" ? 1 : 0;
    bw += e.name == "W head" ? 1 : 0;
    phases += e.name == "adamw" ? 1 : 0;
    EXPECT_GE(e.duration, 0);
  }
  EXPECT_EQ(f, 3);
  EXPECT_EQ(bw, 3);
  EXPECT_EQ(phases, 3);
}

TEST(trainer, names_the_step_and_the_layer_where_a_nan_first_appears) {
  const std::vector<std::uint8_t> data = text(short_text);
  nn::gpt2 model(tiny(), 1);
  train::trainer t(model, data, {.steps = 3, .batch = 2, .seq = 16});
  t.step();
  for (nn::parameter* p : model.parameters()) {
    if (p->name == "h.0.ln_2.weight") {
      p->value[0] = std::numeric_limits<float>::quiet_NaN();
    }
  }
  try {
    t.step();
    ADD_FAILURE() << "a NaN weight went unnoticed";
  } catch (const taskpipe::error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("step 1"), std::string::npos) << what;
    EXPECT_NE(what.find("h.0"), std::string::npos) << what;
  }
}

TEST(trainer, refuses_options_out_of_range_before_any_work) {
  const std::vector<std::uint8_t> data = text(short_text);
  nn::gpt2 model(tiny(), 1);
  EXPECT_THROW(train::trainer(model, data, {.batch = 1, .seq = 17}), taskpipe::invalid_argument);  // > context
  EXPECT_THROW(train::trainer(model, data, {.warmup = 5, .steps = 5, .batch = 1, .seq = 8}),
               taskpipe::invalid_argument);
  EXPECT_THROW(train::trainer(model, data, {.grad_clip = -1, .batch = 1, .seq = 8}), taskpipe::invalid_argument);
  EXPECT_THROW(train::trainer(model, data, {.batch = 4, .seq = 16}), taskpipe::invalid_argument);  // data too short
}

TEST(parameter_checksum, tells_bit_identical_parameters_apart_from_others) {
  nn::gpt2 a(tiny(), 1);
  nn::gpt2 b(tiny(), 1);
  nn::gpt2 c(tiny(), 2);
  EXPECT_EQ(train::parameter_checksum(a.parameters()), train::parameter_checksum(b.parameters()));
  EXPECT_NE(train::parameter_checksum(a.parameters()), train::parameter_checksum(c.parameters()));
  EXPECT_EQ(train::parameter_checksum(a.parameters()).rfind("fnv1a64:", 0), 0U);
}
