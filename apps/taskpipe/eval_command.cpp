#include "eval_command.hpp"

#include <fmt/core.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nn_common.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/train/trainer.hpp"

namespace taskpipe::cli {
namespace {

struct eval_cli {
  std::string checkpoint;
  std::string data;
  int batch = 8;
  int seq = 0;
  int batches = 10;
  int threads = 1;
  bool json = false;
};

void run_eval(eval_cli& o) {
  const nn::checkpoint c = nn::read_checkpoint(o.checkpoint);
  const int seq = o.seq == 0 ? c.config.context : o.seq;
  if (seq > c.config.context) {
    throw invalid_argument(fmt::format("--seq {} is longer than the model's context {}", seq, c.config.context));
  }
  const std::vector<std::uint8_t> text = read_corpus(o.data);
  nn::gpt2 model(c.config, 0);
  nn::load_weights(c, model.parameters());
  const std::unique_ptr<executor> ex = make_executor(o.threads);
  const double loss = train::evaluate(model, text, o.batch, seq, o.batches, ex.get());
  if (o.json) {
    fmt::print("{}\n", nlohmann::json{{"loss", loss}}.dump());
  } else {
    fmt::print("loss {:.6f} over {} batches of {} x {} tokens\n", loss, o.batches, o.batch, seq);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<eval_cli>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Print a checkpoint's mean loss over the first batches of a text file, read in order (no split)");
  cmd->add_option("--checkpoint", o->checkpoint, "Checkpoint written by `taskpipe train --save`")->required();
  cmd->add_option("--data", o->data, "Text file (default: the fortunes corpus)");
  cmd->add_option("--batch", o->batch, "Rows per batch B")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--seq", o->seq, "Tokens per row T, at most the context (default: the context)")
      ->check(CLI::Range(1, 8192));
  cmd->add_option("--batches", o->batches, "Batches averaged")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--threads", o->threads, "Workers; 1 = serial")
      ->capture_default_str()
      ->check(CLI::Range(1, max_threads));
  cmd->add_flag("--json", o->json, "Print {\"loss\": ...}");
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace taskpipe::cli
