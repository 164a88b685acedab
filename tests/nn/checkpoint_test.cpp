// Checkpoints: a bit-exact round trip of weights, optimizer state and position, and the refusal of mismatched files.
#include "taskpipe/nn/checkpoint.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/gpt2.hpp"

namespace nn = taskpipe::nn;

namespace {

nn::gpt2_config tiny() { return {.vocab = 256, .context = 8, .embd = 16, .layers = 2, .heads = 2}; }

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()) + ".safetensors")).string();
}

bool same_bits(const nn::tensor& a, const nn::tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

template <class F>
void expect_error_containing(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << needle;
  } catch (const taskpipe::error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(checkpoint, round_trips_weights_optimizer_state_and_position_bit_for_bit) {
  nn::gpt2 a(tiny(), 1);
  auto pa = a.parameters();
  nn::adamw opt(pa, {}, nullptr);
  for (nn::parameter* p : pa) {
    for (std::size_t i = 0; i < p->grad.size(); ++i) {
      p->grad[i] = 0.001F * static_cast<float>(i % 7) - 0.002F;
    }
  }
  opt.step(1e-3);
  opt.step(1e-3);
  const nn::training_position pos{.step = 2,
                                  .data = {.position = 48, .rng = 0xdeadbeefcafeULL},
                                  .batch = 3,
                                  .seq = 8,
                                  .shuffle = true,
                                  .seed = 17,
                                  .data_tokens = 1000};
  const std::string path = temp_path("taskpipe_ckpt_roundtrip");
  nn::save_checkpoint(path, a.config(), pa, &opt, &pos);

  const nn::checkpoint c = nn::read_checkpoint(path);
  EXPECT_EQ(c.config, tiny());
  ASSERT_TRUE(c.position.has_value());
  EXPECT_EQ(c.position->step, 2);
  EXPECT_EQ(c.position->data.position, 48U);
  EXPECT_EQ(c.position->data.rng, 0xdeadbeefcafeULL);
  EXPECT_EQ(c.position->batch, 3);
  EXPECT_TRUE(c.position->shuffle);
  EXPECT_EQ(c.position->seed, 17U);
  EXPECT_EQ(c.position->data_tokens, 1000U);
  EXPECT_EQ(c.file.metadata.at("n_embd"), "16");  // Hugging Face's config names
  EXPECT_TRUE(c.file.tensors.contains("h.1.attn.c_attn.weight"));
  EXPECT_EQ(c.file.tensors.at("h.1.attn.c_attn.weight").shape, (std::vector<std::size_t>{16, 48}));

  nn::gpt2 b(tiny(), 2);  // another init, overwritten by the load
  auto pb = b.parameters();
  nn::load_weights(c, pb);
  nn::adamw opt_b(pb, {}, nullptr);
  nn::load_optimizer(c, opt_b);
  EXPECT_EQ(opt_b.steps(), 2);
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(same_bits(pa[i]->value, pb[i]->value)) << pa[i]->name;
    EXPECT_TRUE(same_bits(opt.exp_avg(i), opt_b.exp_avg(i))) << pa[i]->name;
    EXPECT_TRUE(same_bits(opt.exp_avg_sq(i), opt_b.exp_avg_sq(i))) << pa[i]->name;
  }
  std::filesystem::remove(path);
}

TEST(checkpoint, weights_alone_load_but_refuse_to_resume_the_optimizer) {
  nn::gpt2 a(tiny(), 1);
  const std::string path = temp_path("taskpipe_ckpt_weights");
  nn::save_checkpoint(path, a.config(), a.parameters());
  const nn::checkpoint c = nn::read_checkpoint(path);
  EXPECT_FALSE(c.position.has_value());
  nn::gpt2 b(tiny(), 2);
  nn::load_weights(c, b.parameters());
  nn::adamw opt(b.parameters(), {}, nullptr);
  expect_error_containing([&] { nn::load_optimizer(c, opt); }, "no optimizer state");
  std::filesystem::remove(path);
}

TEST(checkpoint, refuses_a_tensor_of_the_wrong_shape_for_the_config) {
  nn::gpt2_config wide = tiny();
  wide.embd = 32;
  nn::gpt2 a(wide, 1);
  const std::string path = temp_path("taskpipe_ckpt_shape");
  nn::save_checkpoint(path, tiny(), a.parameters());  // claims embd 16, holds embd 32 tensors
  const nn::checkpoint c = nn::read_checkpoint(path);
  nn::gpt2 b(c.config, 1);
  expect_error_containing([&] { nn::load_weights(c, b.parameters()); }, "has shape [256, 32] but the model");
  std::filesystem::remove(path);
}

TEST(checkpoint, refuses_a_missing_tensor_and_a_tensor_the_model_lacks) {
  nn::gpt2 a(tiny(), 1);
  auto params = a.parameters();
  const std::string path = temp_path("taskpipe_ckpt_missing");
  nn::save_checkpoint(path, a.config(), std::span(params).first(params.size() - 1));  // without ln_f.bias
  const nn::checkpoint c = nn::read_checkpoint(path);
  nn::gpt2 b(tiny(), 1);
  expect_error_containing([&] { nn::load_weights(c, b.parameters()); }, "lacks model tensor ln_f.bias");

  nn::gpt2_config deeper = tiny();
  deeper.layers = 3;
  nn::gpt2 d(deeper, 1);
  nn::save_checkpoint(path, tiny(), d.parameters());  // claims 2 layers, holds 3
  const nn::checkpoint c2 = nn::read_checkpoint(path);
  expect_error_containing([&] { nn::load_weights(c2, b.parameters()); }, "holds tensor h.2.");
  std::filesystem::remove(path);
}

TEST(checkpoint, refuses_a_file_without_a_valid_config) {
  const std::string path = temp_path("taskpipe_ckpt_config");
  const std::vector<float> x{1};
  nn::write_safetensors(path, std::vector<nn::safetensors_view>{{"x", {1}, x}}, {});
  expect_error_containing([&] { nn::read_checkpoint(path); }, "not a taskpipe GPT-2 checkpoint");
  nn::write_safetensors(path, std::vector<nn::safetensors_view>{{"x", {1}, x}},
                        {{"format", "taskpipe-gpt2-v1"},
                         {"vocab_size", "256"},
                         {"n_positions", "8"},
                         {"n_embd", "16"},
                         {"n_layer", "2"},
                         {"n_head", "3"}});
  expect_error_containing([&] { nn::read_checkpoint(path); }, "invalid config");
  nn::write_safetensors(path, std::vector<nn::safetensors_view>{{"x", {1}, x}},
                        {{"format", "taskpipe-gpt2-v1"}, {"vocab_size", "256"}, {"n_positions", "8x"}});
  expect_error_containing([&] { nn::read_checkpoint(path); }, "n_positions='8x' is not a valid number");
  std::filesystem::remove(path);
}
