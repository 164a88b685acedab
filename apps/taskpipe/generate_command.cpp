#include "generate_command.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "nn_common.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/nn/text_data.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace taskpipe::cli {
namespace {

struct generate_cli {
  std::string checkpoint;
  std::string prompt = "\n";
  int tokens = 200;
  double temperature = 1.0;
  int top_k = 0;
  std::uint64_t seed = 0;
  int threads = 1;
};

// The next token from logits: greedy at temperature 0, else softmax(logits / temperature) over the top k.
std::int32_t sample(std::vector<float> logits, double temperature, int top_k, nn::splitmix64& rng) {
  std::vector<std::size_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return logits[a] > logits[b]; });
  if (temperature == 0) {
    return static_cast<std::int32_t>(order[0]);
  }
  const std::size_t k = top_k == 0 ? order.size() : std::min(order.size(), static_cast<std::size_t>(top_k));
  std::vector<double> p(k);
  const double top = logits[order[0]];
  double sum = 0;
  for (std::size_t i = 0; i < k; ++i) {
    p[i] = std::exp((logits[order[i]] - top) / temperature);
    sum += p[i];
  }
  const double u = static_cast<double>(rng.next() >> 11U) * 0x1p-53 * sum;
  double acc = 0;
  for (std::size_t i = 0; i < k; ++i) {
    acc += p[i];
    if (u < acc) {
      return static_cast<std::int32_t>(order[i]);
    }
  }
  return static_cast<std::int32_t>(order[k - 1]);
}

void run_generate(generate_cli& o) {
  if (o.prompt.empty()) {
    throw invalid_argument("--prompt is empty: give at least one character to start from");
  }
  const nn::checkpoint c = nn::read_checkpoint(o.checkpoint);
  if (o.top_k > c.config.vocab) {
    throw invalid_argument(fmt::format("--top-k {} is larger than the vocabulary {}", o.top_k, c.config.vocab));
  }
  std::vector<std::int32_t> ids;
  for (const char ch : o.prompt) {
    const int id = static_cast<unsigned char>(ch);
    if (id >= c.config.vocab) {
      throw invalid_argument(
          fmt::format("--prompt holds byte {}, outside the model's vocabulary of {}", id, c.config.vocab));
    }
    ids.push_back(id);
  }
  nn::gpt2 model(c.config, 0);
  nn::load_weights(c, model.parameters());
  const std::unique_ptr<executor> ex = make_executor(o.threads);
  nn::splitmix64 rng(o.seed);
  std::string out = o.prompt;
  const auto context = static_cast<std::size_t>(c.config.context);
  for (int i = 0; i < o.tokens; ++i) {
    // The model sees at most its context: the newest tokens.
    const std::size_t from = ids.size() > context ? ids.size() - context : 0;
    const std::span<const std::int32_t> window(ids.data() + from, ids.size() - from);
    const std::int32_t next = sample(model.next_token_logits(window, ex.get()), o.temperature, o.top_k, rng);
    ids.push_back(next);
    out.push_back(static_cast<char>(next));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<generate_cli>();
  CLI::App* cmd = app.add_subcommand("generate", "Print text sampled from a checkpoint after a prompt");
  cmd->add_option("--checkpoint", o->checkpoint, "Checkpoint written by `taskpipe train --save`")->required();
  cmd->add_option("--prompt", o->prompt, "Text to continue (bytes; default a newline)");
  cmd->add_option("--tokens", o->tokens, "Bytes to generate")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--temperature", o->temperature, "Softmax temperature; 0 = always the likeliest byte")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k", o->top_k, "Sample among the k likeliest bytes; 0 = all")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--seed", o->seed, "Seed of the sampler (splitmix64)")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Workers; 1 = serial")
      ->capture_default_str()
      ->check(CLI::Range(1, max_threads));
  cmd->callback([o] { run_generate(*o); });
}

}  // namespace taskpipe::cli
