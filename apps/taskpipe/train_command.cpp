#include "train_command.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nn_common.hpp"
#include "progress.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/nn/text_data.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/trace/chrome_trace.hpp"
#include "taskpipe/train/trainer.hpp"
#include "train_cli.hpp"
#include "train_loop.hpp"
#include "train_parallel.hpp"
#ifdef TASKPIPE_CLI_HAS_MPI
#include "train_mpi.hpp"
#endif

namespace taskpipe::cli {
namespace {

// The model's config: the checkpoint's with --resume / --init (size flags are then refused, as they would be
// ignored), else the preset with the size flags applied.
nn::gpt2_config model_config(const train_cli& o, const std::optional<nn::checkpoint>& c) {
  if (c) {
    for (const char* flag : {"--preset", "--layers", "--heads", "--embd", "--context"}) {
      if (given(o, flag)) {
        throw invalid_argument(std::string(flag) + " conflicts with " + (o.resume.empty() ? "--init" : "--resume") +
                               ": the model's size comes from the checkpoint");
      }
    }
    return c->config;
  }
  nn::gpt2_config cfg = nn::preset(o.preset);
  cfg.layers = given(o, "--layers") ? o.layers : cfg.layers;
  cfg.heads = given(o, "--heads") ? o.heads : cfg.heads;
  cfg.embd = given(o, "--embd") ? o.embd : cfg.embd;
  cfg.context = given(o, "--context") ? o.context : cfg.context;
  cfg.validate();
  return cfg;
}

void check_conflicts(const train_cli& o) {
  if (!o.resume.empty() && !o.init.empty()) {
    throw invalid_argument("--resume and --init exclude each other: --resume continues a run, --init starts one");
  }
  if (!o.resume.empty() && given(o, "--seed")) {
    throw invalid_argument("--seed conflicts with --resume: a resumed run keeps its seed and generator state");
  }
  if (given(o, "--save-every") && o.save.empty()) {
    throw invalid_argument("--save-every needs --save FILE");
  }
  if (o.t.warmup >= o.t.steps) {
    throw invalid_argument("--warmup " + std::to_string(o.t.warmup) + " is out of range: accepted [0, --steps " +
                           std::to_string(o.t.steps) + ")");
  }
  if (!o.save.empty()) {
    check_output_path("--save", o.save);
  }
  if (!o.trace.empty()) {
    check_output_path("--trace", o.trace);
  }
  if (!o.svg.empty()) {
    if (o.strategy == "task") {
      throw invalid_argument(
          "--svg conflicts with --strategy task: it draws the workers of dp, pp and hybrid; use "
          "--trace for one worker's layers");
    }
    check_output_path("--svg", o.svg);
  }
  if (o.compare_sim) {
    if (o.strategy == "task") {
      throw invalid_argument(
          "--compare-sim conflicts with --strategy task: the simulator predicts dp, pp and hybrid "
          "schedules");
    }
    if (o.svg.empty() && o.trace.empty()) {
      throw invalid_argument("--compare-sim needs --svg FILE or --trace FILE to draw the simulated timeline in");
    }
  }
}

void run_train(train_cli& o) {
  check_conflicts(o);
  check_layout_flags(o);
  std::optional<nn::checkpoint> ckpt;
  const std::string& from = o.resume.empty() ? o.init : o.resume;
  if (!from.empty()) {
    ckpt = nn::read_checkpoint(from);
  }
  const nn::gpt2_config cfg = model_config(o, ckpt);
  if (!o.resume.empty() && ckpt->position) {
    o.t.seed = ckpt->position->seed;
  }
  o.t.seq = given(o, "--seq") ? o.seq : cfg.context;
  o.t.validate(cfg);
  const bool parallel = o.strategy != "task";
  std::optional<train::parallel_plan> plan;
  if (parallel || o.memory_per_worker > 0) {
    plan = plan_from_flags(o, cfg);  // for task, only the memory check
  }

#ifdef TASKPIPE_CLI_HAS_MPI
  check_mpi_flags(o, parallel ? &*plan : nullptr);
#else
  if (given(o, "--comm-timeout")) {
    throw invalid_argument("--comm-timeout needs a build with MPI (TASKPIPE_WITH_MPI, Open MPI found)");
  }
#endif
  const std::vector<std::uint8_t> corpus = read_corpus(o.data);
  const nn::text_split parts = nn::split(corpus, o.val_fraction);
  const std::size_t need = static_cast<std::size_t>(o.t.batch) * static_cast<std::size_t>(o.t.seq) + 1;
  if (parts.train.size() < need) {
    throw invalid_argument(fmt::format("the training split holds {} tokens; batch {} x seq {} needs at least {}",
                                       parts.train.size(), o.t.batch, o.t.seq, need));
  }
  if (o.val_fraction > 0 && parts.validation.size() < need) {
    throw invalid_argument(fmt::format(
        "the validation split holds {} tokens; batch {} x seq {} needs at least {}: raise --val-fraction or set it "
        "to 0",
        parts.validation.size(), o.t.batch, o.t.seq, need));
  }
  for (const std::uint8_t b : corpus) {
    if (static_cast<int>(b) >= cfg.vocab) {
      throw invalid_argument(fmt::format("the data holds byte {}, outside the model's vocabulary of {}", b, cfg.vocab));
    }
  }

#ifdef TASKPIPE_CLI_HAS_MPI
  if (parallel && under_mpirun()) {
    run_mpi_train(o, cfg, *plan, ckpt, parts.train, parts.validation);
    return;
  }
#endif
  if (parallel) {
    run_parallel_train(o, cfg, *plan, ckpt, parts.train, parts.validation);
    return;
  }

  nn::memory_ledger ledger;
  nn::gpt2 model(cfg, o.t.seed, &ledger);
  if (ckpt) {
    nn::load_weights(*ckpt, model.parameters());
  }
  const std::unique_ptr<executor> ex = make_executor(o.threads);
  trace::timeline timeline;
  train::trainer tr(model, parts.train, o.t, ex.get(), &ledger, o.trace.empty() ? nullptr : &timeline);
  if (!o.resume.empty()) {
    tr.resume(*ckpt);
  }

  const std::int64_t first = tr.steps_done();
  progress bar(first, o.t.steps, static_cast<std::int64_t>(need - 1), ::isatty(STDERR_FILENO) == 1, o.log_every);
  const auto [last, seconds] = run_steps(tr, o, bar);
  std::optional<double> val;
  if (o.val_fraction > 0) {
    val = train::evaluate(model, parts.validation, o.t.batch, o.t.seq, o.val_batches, ex.get());
  }
  if (!o.trace.empty()) {
    trace::write_chrome(timeline, o.trace);
  }
  const double steps_run = static_cast<double>(tr.steps_done() - first);
  const double tokens_per_second = seconds > 0 ? steps_run * static_cast<double>(need - 1) / seconds : 0;
  const auto params = model.parameters();
  const std::string checksum = train::parameter_checksum(params);
  if (o.json) {
    nlohmann::ordered_json j;
    j["config"] = {{"vocab", cfg.vocab},
                   {"context", cfg.context},
                   {"embd", cfg.embd},
                   {"layers", cfg.layers},
                   {"heads", cfg.heads}};
    j["strategy"] = o.strategy;
    j["batch"] = o.t.batch;
    j["seq"] = o.t.seq;
    j["threads"] = o.threads;
    j["steps"] = tr.steps_done();
    j["steps_run"] = tr.steps_done() - first;
    j["final_loss"] = last.loss;
    j["validation_loss"] = val ? nlohmann::ordered_json(*val) : nlohmann::ordered_json(nullptr);
    j["tokens_per_second"] = tokens_per_second;
    j["peak_bytes"] = nlohmann::ordered_json::parse(peak_bytes_json(ledger));
    j["parameter_count"] = cfg.parameter_count();
    j["parameter_checksum"] = checksum;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("trained {} steps ({} to {}) of {}: loss {:.4f}", tr.steps_done() - first, first, tr.steps_done(),
             cfg.to_string(), last.loss);
  if (val) {
    fmt::print(", validation loss {:.4f}", *val);
  }
  fmt::print(", {:.0f} tokens/s\nparameters {}\n", tokens_per_second, checksum);
  if (!o.save.empty()) {
    fmt::print("checkpoint {}\n", o.save);
  }
  if (!o.trace.empty()) {
    fmt::print("trace {} (open in https://ui.perfetto.dev)\n", o.trace);
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<train_cli>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train the GPT-2-architecture model (byte-level) on a text file or Debian's fortunes corpus");
  o->cmd = cmd;
  cmd->add_option("--preset", o->preset,
                  "Model size: tiny (d 64, 2 layers, 4 heads, context 64), small (the "
                  "reference: d 256, 6 layers, 8 heads, context 128) or deep (small, 12 layers)")
      ->capture_default_str()
      ->check(CLI::IsMember({"tiny", "small", "deep"}));
  cmd->add_option("--layers", o->layers, "Blocks (n_layer), overrides the preset")->check(CLI::Range(1, 256));
  cmd->add_option("--heads", o->heads, "Attention heads (n_head), must divide --embd")->check(CLI::Range(1, 8192));
  cmd->add_option("--embd", o->embd, "Width d (n_embd)")->check(CLI::Range(1, 8192));
  cmd->add_option("--context", o->context, "Longest sequence (n_positions)")->check(CLI::Range(1, 8192));
  cmd->add_option("--seq", o->seq, "Tokens per row T, at most the context (default: the context)")
      ->check(CLI::Range(1, 8192));
  cmd->add_option("--batch", o->t.batch, "Rows per step B")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--steps", o->t.steps, "Total steps (a resumed run continues up to it)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  cmd->add_option("--threads", o->threads, "Workers running the ops task-parallel; 1 = serial")
      ->capture_default_str()
      ->check(CLI::Range(1, max_threads));
  cmd->add_option("--data", o->data,
                  "Text file to train on, read as bytes (default: the fortunes corpus, "
                  "/usr/share/games/fortunes, plain files sorted by name)");
  cmd->add_option("--val-fraction", o->val_fraction, "The last fraction of the tokens kept for validation")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--val-batches", o->val_batches, "Batches of the validation split read for the validation loss")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--shuffle", o->t.shuffle, "Draw each row's window at random (seeded by --seed) instead of in order");
  cmd->add_option("--seed", o->t.seed, "Seed of the model's init and of --shuffle")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max()));
  cmd->add_option("--lr", o->t.adamw.lr, "Peak learning rate, in (0, 10]")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--beta1", o->t.adamw.beta1, "AdamW beta1, in [0, 1)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--beta2", o->t.adamw.beta2, "AdamW beta2, in [0, 1)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--eps", o->t.adamw.eps, "AdamW epsilon, in (0, 1]")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--weight-decay", o->t.adamw.weight_decay, "Decoupled weight decay on 2-D weights")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--grad-clip", o->t.grad_clip, "Max global gradient norm; 0 turns clipping off")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--warmup", o->t.warmup, "Linear warm-up steps, in [0, --steps)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000'000}));
  cmd->add_flag("--cosine", o->t.cosine, "Cosine decay after the warm-up, down to --lr-floor x --lr at the last step");
  cmd->add_option("--lr-floor", o->t.lr_floor, "The cosine's end as a fraction of --lr")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--save", o->save, "Checkpoint (safetensors, HF GPT-2 names + optimizer state) written at the end");
  cmd->add_option("--save-every", o->save_every, "Also save every N steps; 0 = only at the end")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000'000}));
  cmd->add_option("--resume", o->resume, "Continue the run saved in this checkpoint, exactly");
  cmd->add_option("--init", o->init, "Start from this checkpoint's weights with a fresh optimizer");
  cmd->add_option("--log-every", o->log_every, "Without a terminal, a progress line every N steps")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000'000}));
  cmd->add_option(
      "--trace", o->trace,
      "Write a Chrome-trace / Perfetto timeline: each step's phases and each layer's F, B and W (task) or each "
      "worker's F, B, I and W per stage and micro-batch (dp, pp, hybrid)");
  cmd->add_option("--svg", o->svg,
                  "Draw each worker's F, B, I and W per stage and micro-batch as an SVG picture (dp, pp, hybrid: the "
                  "timeline --trace writes)");
  cmd->add_flag("--compare-sim", o->compare_sim,
                "With --svg or --trace: add below the measured tracks the simulator's timeline of the same schedule "
                "and cut under the profiled per-layer costs (tracks 'sim rank r'), aligned with the last step");
  cmd->add_option("--strategy", o->strategy,
                  "task: one worker, its ops task-parallel on --threads; dp: --dp replicas of the whole model, each "
                  "on a share of the batch; pp: one pipeline of --pp ranks running --schedule; hybrid: --dp "
                  "replicas of a --pp-rank pipeline")
      ->capture_default_str()
      ->check(CLI::IsMember({"task", "dp", "pp", "hybrid"}));
  cmd->add_option("--dp", o->dp, "Data-parallel replicas D (dp, hybrid)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--pp", o->pp, "Pipeline ranks P (pp, hybrid)")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--schedule", o->schedule,
                  "Pipeline schedule (pp, hybrid): gpipe, 1f1b, interleaved, zb-h1, zb-h2, zb-v, zb-auto, dualpipe-v")
      ->capture_default_str();
  cmd->add_option("--microbatches", o->microbatches,
                  "Micro-batches M per replica and step (dp, pp, hybrid; default 1 for dp, P for pp and hybrid, "
                  "2P for dualpipe-v); the batch must be a multiple of D x M")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--chunks", o->chunks, "Stages per rank of --schedule interleaved")
      ->capture_default_str()
      ->check(CLI::Range(2, 64));
  cmd->add_option("--partition", o->partition,
                  "How the layers are cut into stages (dp, pp, hybrid): flops (each layer's FLOPs) or profile (a "
                  "short timed run of each layer's F, B and W)")
      ->capture_default_str()
      ->check(CLI::IsMember({"flops", "profile"}));
  cmd->add_option("--memory-per-worker", o->memory_per_worker,
                  "Bytes a worker may hold (parameters, gradients, AdamW state, activations); the cut must fit; 0 = "
                  "no limit")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max()));
  cmd->add_option("--comm-timeout", o->comm_timeout,
                  "Under mpirun: seconds a rank waits for one message (or a gradient reduction) before it names "
                  "the rank and message it waited for and aborts the job")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_flag("--quiet", o->quiet, "No progress bar or progress lines on stderr");
  cmd->add_flag(
      "--json", o->json,
      "Print the final loss, validation loss, tokens/s, peak bytes by category and a parameter checksum (dp, pp, "
      "hybrid: also the cut and each worker's busy and idle time and peak bytes)");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace taskpipe::cli
