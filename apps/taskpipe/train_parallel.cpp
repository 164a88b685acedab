#include "train_parallel.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "nn_common.hpp"
#include "progress.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/pp/generators.hpp"
#include "taskpipe/pp/simulate.hpp"
#include "taskpipe/trace/chrome_trace.hpp"
#include "taskpipe/trace/svg.hpp"
#include "taskpipe/train/layer_costs.hpp"
#include "taskpipe/train/parallel_trainer.hpp"
#include "train_loop.hpp"
#include "worker_report.hpp"

namespace taskpipe::cli {
namespace {

constexpr nn::memory_category reported[] = {nn::memory_category::parameters, nn::memory_category::gradients,
                                            nn::memory_category::optimizer, nn::memory_category::activations};

std::string layout_text(const train::parallel_plan& p) {
  return fmt::format(
      "strategy {}: {} replica{} x {} pipeline rank{}, schedule {}, {} micro-batch{} of {} row{} per replica; "
      "worker (replica d, rank r) trains rows [d*B/D, (d+1)*B/D) on the stages of rank r\n"
      "partition by {} (time in {}):\n{}",
      to_string(p.kind), p.replicas, p.replicas == 1 ? "" : "s", p.schedule.ranks, p.schedule.ranks == 1 ? "" : "s",
      p.schedule.name, p.schedule.microbatches, p.schedule.microbatches == 1 ? "" : "es", p.rows_per_microbatch,
      p.rows_per_microbatch == 1 ? "" : "s", to_string(p.costs),
      p.costs == train::cost_source::flops ? "FLOPs per micro-batch" : "seconds per micro-batch", p.cut.describe());
}

// The validation loss on a one-worker model holding replica 0's parameters (checkpoint order on both sides).
double validation_loss(train::parallel_model& pm, const nn::gpt2_config& cfg, std::uint64_t seed,
                       std::span<const std::uint8_t> split, const train::trainer_options& t, int batches) {
  nn::gpt2 one(cfg, seed);
  const std::vector<nn::parameter*> to = one.parameters();
  const std::vector<nn::parameter*> from = pm.parameters(0);
  for (std::size_t i = 0; i < to.size(); ++i) {
    std::memcpy(to[i]->value.data(), from.at(i)->value.data(), to[i]->value.bytes());
  }
  return train::evaluate(one, split, t.batch, t.seq, batches);
}

// Appends tracks "sim rank r": the schedule simulated under the per-layer costs of the plan's cut, profiled with as
// many workers busy as the run has, its start
// placed at the measured last step's first action (replica 0) so the two can be read one above the other.
void add_simulated_tracks(trace::timeline& t, const train::parallel_plan& plan, const nn::gpt2_config& cfg,
                          const train::trainer_options& o, std::int64_t last_step) {
  const std::vector<train::layer_cost> layers = train::measure_layer_costs(
      cfg, o.seed, plan.rows_per_microbatch, static_cast<std::size_t>(o.seq), train::cost_source::profile, 2,
      std::min(plan.replicas * plan.schedule.ranks,
               static_cast<int>(std::max(1U, std::thread::hardware_concurrency()))));
  const pp::simulation sim = pp::simulate(plan.schedule, train::stage_costs(layers, plan.cut.bounds));
  double origin = -1;
  for (const trace::event& e : t.events) {
    const bool worker = e.track >= 1 && e.track <= plan.schedule.ranks;  // replica 0's ranks
    const bool last =
        std::find(e.args.begin(), e.args.end(), std::pair<std::string, long long>{"step", last_step}) != e.args.end();
    if (worker && last && (origin < 0 || e.start < origin)) {
      origin = e.start;
    }
  }
  origin = std::max(origin, 0.0);
  const int first = static_cast<int>(t.tracks.size());
  for (int r = 0; r < plan.schedule.ranks; ++r) {
    t.tracks.push_back("sim rank " + std::to_string(r));
  }
  for (const trace::event& e : sim.timeline().events) {
    trace::event s = e;
    s.track = first + e.track;
    s.start = origin + e.start * 1e6;  // the costs are seconds; the measured timeline is in microseconds
    s.duration = e.duration * 1e6;
    t.events.push_back(std::move(s));
  }
}

}  // namespace

void check_layout_flags(const train_cli& o) {
  const train::strategy s = train::parse_strategy(o.strategy);
  const std::string with = " conflicts with --strategy " + o.strategy;
  const bool replicas = s == train::strategy::data || s == train::strategy::hybrid;
  const bool ranks = s == train::strategy::pipeline || s == train::strategy::hybrid;
  if (!replicas && given(o, "--dp")) {
    throw invalid_argument("--dp" + with + ": only dp and hybrid have data-parallel replicas");
  }
  for (const char* flag : {"--pp", "--schedule", "--chunks"}) {
    if (!ranks && given(o, flag)) {
      throw invalid_argument(std::string(flag) + with + ": only pp and hybrid run a pipeline");
    }
  }
  for (const char* flag : {"--microbatches", "--partition"}) {
    if (s == train::strategy::task && given(o, flag)) {
      throw invalid_argument(std::string(flag) + with + ": one worker runs the whole batch, uncut");
    }
  }
  if (s != train::strategy::task && o.threads > 1) {
    throw invalid_argument("--threads " + std::to_string(o.threads) + with +
                           ": each worker of dp, pp and hybrid runs its ops on its own thread; --threads is for task");
  }
  if (given(o, "--chunks") && pp::parse_kind(o.schedule) != pp::kind::interleaved) {
    throw invalid_argument("--chunks applies to --schedule interleaved only, not " + o.schedule);
  }
}

train::parallel_plan plan_from_flags(const train_cli& o, const nn::gpt2_config& cfg) {
  train::plan_request r;
  r.config = cfg;
  r.seed = o.t.seed;
  r.batch = o.t.batch;
  r.seq = o.t.seq;
  r.kind = train::parse_strategy(o.strategy);
  const bool replicas = r.kind == train::strategy::data || r.kind == train::strategy::hybrid;
  const bool ranks = r.kind == train::strategy::pipeline || r.kind == train::strategy::hybrid;
  r.replicas = replicas ? o.dp : 1;
  r.ranks = ranks ? o.pp : 1;
  r.schedule = pp::parse_kind(o.schedule);
  r.microbatches = o.microbatches;
  r.chunks = o.chunks;
  r.costs = train::parse_cost_source(o.partition);
  r.memory_per_worker = static_cast<double>(o.memory_per_worker);
  return train::make_plan(r);
}

void run_parallel_train(const train_cli& o, const nn::gpt2_config& cfg, const train::parallel_plan& plan,
                        const std::optional<nn::checkpoint>& ckpt, std::span<const std::uint8_t> train_split,
                        std::span<const std::uint8_t> validation_split) {
  trace::timeline timeline;
  const bool timed = !o.trace.empty() || !o.svg.empty();
  train::parallel_trainer tr(cfg, o.t.seed, plan, train_split, o.t, timed ? &timeline : nullptr);
  if (ckpt) {
    o.resume.empty() ? tr.load_weights(*ckpt) : tr.resume(*ckpt);
  }
  if (!o.json) {
    fmt::print("{}", layout_text(plan));
    std::fflush(stdout);
  }
  const std::int64_t first = tr.steps_done();
  const std::int64_t tokens_per_step = static_cast<std::int64_t>(o.t.batch) * o.t.seq;
  progress bar(first, o.t.steps, tokens_per_step, ::isatty(STDERR_FILENO) == 1, o.log_every);
  const auto [last, seconds] = run_steps(tr, o, bar);
  std::optional<double> val;
  if (o.val_fraction > 0) {
    val = validation_loss(tr.model(), cfg, o.t.seed, validation_split, o.t, o.val_batches);
  }
  if (o.compare_sim && tr.steps_done() > first) {
    add_simulated_tracks(timeline, plan, cfg, o.t, tr.steps_done() - 1);
  }
  if (!o.trace.empty()) {
    trace::write_chrome(timeline, o.trace);
  }
  if (!o.svg.empty()) {
    trace::write_svg(timeline, o.svg);
  }
  const double steps_run = static_cast<double>(tr.steps_done() - first);
  const double tokens_per_second = seconds > 0 ? steps_run * static_cast<double>(tokens_per_step) / seconds : 0;
  const std::string checksum = train::parameter_checksum(tr.model().parameters(0));

  if (o.json) {
    nlohmann::ordered_json j;
    j["config"] = {{"vocab", cfg.vocab},
                   {"context", cfg.context},
                   {"embd", cfg.embd},
                   {"layers", cfg.layers},
                   {"heads", cfg.heads}};
    j["strategy"] = o.strategy;
    j["replicas"] = plan.replicas;
    j["ranks"] = plan.schedule.ranks;
    j["schedule"] = plan.schedule.name;
    j["microbatches"] = plan.schedule.microbatches;
    j["batch"] = o.t.batch;
    j["seq"] = o.t.seq;
    j["steps"] = tr.steps_done();
    j["steps_run"] = tr.steps_done() - first;
    j["final_loss"] = last.loss;
    j["validation_loss"] = val ? nlohmann::ordered_json(*val) : nlohmann::ordered_json(nullptr);
    j["tokens_per_second"] = tokens_per_second;
    j["partition"] = partition_json(plan);
    std::vector<worker_figures> workers;
    for (const train::worker_time& w : tr.worker_times()) {
      workers.push_back(worker_figures::of(w.replica, w.rank, w.busy, w.idle, tr.model().ledger(w.replica, w.rank)));
    }
    add_workers_json(j, workers);
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
  fmt::print(", {:.0f} tokens/s\n", tokens_per_second);
  for (const train::worker_time& w : tr.worker_times()) {
    const nn::memory_ledger& l = tr.model().ledger(w.replica, w.rank);
    const double total = w.busy + w.idle;
    fmt::print("replica {} rank {}: busy {:.3f} s, idle {:.3f} s ({:.1f} %), peak bytes", w.replica, w.rank, w.busy,
               w.idle, total > 0 ? 100 * w.idle / total : 0.0);
    for (const nn::memory_category c : reported) {
      fmt::print("{} {} {}", c == reported[0] ? "" : ",", nn::to_string(c), l.peak(c));
    }
    fmt::print("\n");
  }
  fmt::print("parameters {}\n", checksum);
  if (!o.save.empty()) {
    fmt::print("checkpoint {}\n", o.save);
  }
  if (!o.trace.empty()) {
    fmt::print("trace {} (open in https://ui.perfetto.dev)\n", o.trace);
  }
  if (!o.svg.empty()) {
    fmt::print("svg {}\n", o.svg);
  }
}

}  // namespace taskpipe::cli
