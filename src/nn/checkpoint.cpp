#include "taskpipe/nn/checkpoint.hpp"

#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "taskpipe/error.hpp"

namespace taskpipe::nn {
namespace {

constexpr std::string_view format_name = "taskpipe-gpt2-v1";
constexpr std::string_view exp_avg_prefix = "optimizer.exp_avg.";
constexpr std::string_view exp_avg_sq_prefix = "optimizer.exp_avg_sq.";

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return s + "]";
}

template <class T>
T metadata_number(const checkpoint& c, const std::string& key) {
  const auto it = c.file.metadata.find(key);
  if (it == c.file.metadata.end()) {
    throw error("checkpoint " + c.path + " lacks metadata '" + key + "'");
  }
  T v{};
  const std::string& s = it->second;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    throw error("checkpoint " + c.path + ": metadata " + key + "='" + s + "' is not a valid number");
  }
  return v;
}

void copy_checked(const checkpoint& c, const std::string& name, tensor& into, const char* what) {
  const auto it = c.file.tensors.find(name);
  if (it == c.file.tensors.end()) {
    throw error("checkpoint " + c.path + " lacks " + what + " tensor " + name);
  }
  if (it->second.shape != into.shape()) {
    throw error("checkpoint " + c.path + ": tensor " + name + " has shape " + shape_text(it->second.shape) +
                " but the model (" + c.config.to_string() + ") expects " + into.shape_string());
  }
  if (!into.empty()) {
    std::memcpy(into.data(), it->second.data.data(), into.bytes());
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const gpt2_config& config, std::span<parameter* const> params,
                     const adamw* optimizer, const training_position* position) {
  std::map<std::string, std::string> meta{{"format", std::string(format_name)},
                                          {"vocab_size", std::to_string(config.vocab)},
                                          {"n_positions", std::to_string(config.context)},
                                          {"n_embd", std::to_string(config.embd)},
                                          {"n_layer", std::to_string(config.layers)},
                                          {"n_head", std::to_string(config.heads)}};
  std::vector<safetensors_view> views;
  for (const parameter* p : params) {
    views.push_back({p->name, p->value.shape(), p->value.span()});
  }
  if (optimizer != nullptr) {
    meta["optimizer_step"] = std::to_string(optimizer->steps());
    for (std::size_t i = 0; i < optimizer->parameters().size(); ++i) {
      const parameter& p = *optimizer->parameters()[i];
      views.push_back({std::string(exp_avg_prefix) + p.name, p.value.shape(), optimizer->exp_avg(i).span()});
      views.push_back({std::string(exp_avg_sq_prefix) + p.name, p.value.shape(), optimizer->exp_avg_sq(i).span()});
    }
  }
  if (position != nullptr) {
    meta["step"] = std::to_string(position->step);
    meta["data_position"] = std::to_string(position->data.position);
    meta["rng_state"] = std::to_string(position->data.rng);
    meta["batch"] = std::to_string(position->batch);
    meta["seq"] = std::to_string(position->seq);
    meta["shuffle"] = position->shuffle ? "1" : "0";
    meta["seed"] = std::to_string(position->seed);
    meta["data_tokens"] = std::to_string(position->data_tokens);
  }
  write_safetensors(path, views, meta);
}

checkpoint read_checkpoint(const std::string& path) {
  checkpoint c;
  c.path = path;
  c.file = read_safetensors(path);
  const auto format = c.file.metadata.find("format");
  if (format == c.file.metadata.end() || format->second != format_name) {
    throw error("checkpoint " + path +
                " is not a taskpipe GPT-2 checkpoint: its metadata lacks format=" + std::string(format_name));
  }
  c.config.vocab = metadata_number<int>(c, "vocab_size");
  c.config.context = metadata_number<int>(c, "n_positions");
  c.config.embd = metadata_number<int>(c, "n_embd");
  c.config.layers = metadata_number<int>(c, "n_layer");
  c.config.heads = metadata_number<int>(c, "n_head");
  try {
    c.config.validate();
  } catch (const error& e) {
    throw error("checkpoint " + path + " holds an invalid config: " + e.what());
  }
  if (c.file.metadata.contains("optimizer_step")) {
    c.optimizer_step = metadata_number<std::int64_t>(c, "optimizer_step");
  }
  if (c.file.metadata.contains("step")) {
    training_position p;
    p.step = metadata_number<std::int64_t>(c, "step");
    p.data.position = metadata_number<std::uint64_t>(c, "data_position");
    p.data.rng = metadata_number<std::uint64_t>(c, "rng_state");
    p.batch = metadata_number<int>(c, "batch");
    p.seq = metadata_number<int>(c, "seq");
    p.shuffle = metadata_number<int>(c, "shuffle") != 0;
    p.seed = metadata_number<std::uint64_t>(c, "seed");
    p.data_tokens = metadata_number<std::uint64_t>(c, "data_tokens");
    c.position = p;
  }
  return c;
}

void load_weights(const checkpoint& c, std::span<parameter* const> params) {
  std::set<std::string> expected;
  for (parameter* p : params) {
    copy_checked(c, p->name, p->value, "model");
    expected.insert(p->name);
  }
  for (const auto& [name, t] : c.file.tensors) {
    if (!name.starts_with("optimizer.") && !expected.contains(name)) {
      throw error("checkpoint " + c.path + " holds tensor " + name + ", which the model (" + c.config.to_string() +
                  ") does not have");
    }
  }
}

void load_optimizer(const checkpoint& c, adamw& optimizer) {
  if (!c.optimizer_step) {
    throw error("checkpoint " + c.path +
                " holds no optimizer state (metadata optimizer_step): use --init to start "
                "from its weights with a fresh optimizer");
  }
  for (std::size_t i = 0; i < optimizer.parameters().size(); ++i) {
    const std::string& name = optimizer.parameters()[i]->name;
    copy_checked(c, std::string(exp_avg_prefix) + name, optimizer.exp_avg(i), "optimizer");
    copy_checked(c, std::string(exp_avg_sq_prefix) + name, optimizer.exp_avg_sq(i), "optimizer");
  }
  optimizer.set_steps(*c.optimizer_step);
}

}  // namespace taskpipe::nn
