#include "verdict_model.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/pp/simulate.hpp"
#include "taskpipe/trace/chrome_trace.hpp"
#include "taskpipe/trace/write_file.hpp"
#include "taskpipe/verdict/builtin_model.hpp"
#include "taskpipe/verdict/model_verdict.hpp"
#include "taskpipe/verdict/pareto_svg.hpp"

namespace taskpipe::cli {
namespace {

namespace fs = std::filesystem;

const char* const model_only[] = {"--preset",  "--layers", "--heads", "--embd",
                                  "--context", "--seq",    "--batch", "--memory-per-worker",
                                  "--steps",   "--seed"};

struct model_run {
  std::string name;   ///< file-name stem: "model", "model-tight", "model-ample"
  std::string title;  ///< the report's first line
  verdict::model_workload workload;
};

std::string ms_text(double s) { return time_text(s * 1e9); }

std::string workload_text(const verdict::model_workload& w) {
  return fmt::format("GPT-2 {} ({:.2f} M parameters); batch {} x {} tokens; {} workers", w.config.to_string(),
                     static_cast<double>(w.config.parameter_count()) / 1e6, w.batch, w.seq, w.workers);
}

nlohmann::json row_json(const verdict::model_row& row, bool recommended) {
  const auto& p = row.predicted;
  const auto& c = p.candidate;
  nlohmann::json k{{"candidate", c.label()},
                   {"strategy", std::string(train::to_string(c.kind))},
                   {"replicas", c.replicas},
                   {"ranks", c.ranks},
                   {"schedule", c.kind == train::strategy::pipeline || c.kind == train::strategy::hybrid
                                    ? nlohmann::json(std::string(pp::kind_name(c.schedule)))
                                    : nlohmann::json(nullptr)},
                   {"microbatches", c.microbatches},
                   {"chunks", c.chunks},
                   {"threads", c.threads},
                   {"cut", p.bounds},
                   {"fits", p.fits},
                   {"reason", p.reason},
                   {"predicted_step_seconds", p.step_seconds},
                   {"predicted_compute_seconds", p.compute_seconds},
                   {"predicted_tail_seconds", p.tail_seconds},
                   {"memory_per_worker", p.memory_per_worker},
                   {"state_bytes_per_worker", p.state_bytes_per_worker},
                   {"bound", p.bound},
                   {"recommended", recommended}};
  if (row.measured) {
    k["measured_step_seconds"] = row.measured->step_seconds;
    k["measured_spread"] = row.measured->spread;
    k["measured_peak_bytes"] = row.measured->peak_bytes;
    k["measured_steps"] = row.measured->steps;
    k["error"] = *row.error();
  }
  return k;
}

nlohmann::json report_json(const model_run& run, const verdict::model_report& r) {
  const auto& w = r.workload;
  nlohmann::json j;
  j["model"] = run.title;
  j["workload"] = {{"vocab", w.config.vocab},
                   {"context", w.config.context},
                   {"embd", w.config.embd},
                   {"layers", w.config.layers},
                   {"heads", w.config.heads},
                   {"batch", w.batch},
                   {"seq", w.seq},
                   {"workers", w.workers},
                   {"memory_per_worker", w.memory_per_worker}};
  const auto& p = r.profile;
  j["profile"] = {{"parameter_bytes", p.parameter_bytes},
                  {"model_state_bytes", 4 * p.parameter_bytes},
                  {"intra_op_speedup", p.intra_op_speedup},
                  {"effective_cores", p.effective_cores},
                  {"corun_slowdown", p.corun_slowdown},
                  {"clip_seconds_per_byte", p.clip_seconds_per_byte},
                  {"optimizer_seconds_per_byte", p.optimizer_seconds_per_byte},
                  {"reduce_seconds_per_byte", p.reduce_seconds_per_byte},
                  {"transport_seconds_per_message", p.transport_seconds_per_message},
                  {"transport_seconds_per_byte", p.transport_seconds_per_byte}};
  for (std::size_t i = 0; i < p.fixed.size(); ++i) {
    j["profile"]["layers"].push_back({{"fixed", {p.fixed[i].f, p.fixed[i].b, p.fixed[i].w}},
                                      {"per_row", {p.per_row[i].f, p.per_row[i].b, p.per_row[i].w}},
                                      {"parameter_bytes", p.fixed[i].parameter_bytes},
                                      {"activation_bytes_per_row", p.per_row[i].activation_bytes},
                                      {"w_bytes_per_row", p.per_row[i].w_bytes}});
  }
  j["baseline"] = row_json(r.baseline, r.baseline_recommended);
  j["candidates"] = nlohmann::json::array();
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    j["candidates"].push_back(row_json(r.rows[i], r.recommended == i));
  }
  const auto* pick = r.pick();
  j["recommended"] = pick != nullptr ? nlohmann::json(pick->predicted.candidate.label()) : nlohmann::json(nullptr);
  j["tied"] = r.tied;
  j["verdict"] = r.verdict;
  return j;
}

void print_row(std::string& out, const verdict::model_row& row, bool recommended, const std::string& suffix = "") {
  const auto& p = row.predicted;
  const auto err = row.error();
  out += fmt::format(
      "{:<3} {:<30} {:>10} {:>10} {:>7} {:>10} {:>10}  {}\n", recommended ? "=>" : "", p.candidate.label() + suffix,
      ms_text(p.step_seconds), row.measured ? ms_text(row.measured->step_seconds) : "-",
      err ? fmt::format("{:.1f}%", *err * 100) : "-", bytes_text(p.memory_per_worker),
      row.measured ? bytes_text(row.measured->peak_bytes) : "-", p.fits ? p.bound : "memory: does not fit");
}

void print_report(std::string& out, const model_run& run, const verdict::model_report& r) {
  const auto& p = r.profile;
  out += run.title + "\n";
  double step = 0;
  for (const auto& l : p.layers_at(r.workload.batch)) {
    step += l.f + l.b + l.w;
  }
  out += fmt::format(
      "profile (one run): one-worker F+B+W {} and optimizer {} per step; {}x intra-op speed-up on {} threads; "
      "{:.2f} cores free; layers {:.2f}x slower with {} at once; transport {} + {:.2f} ns/byte\n\n",
      ms_text(step), ms_text((p.clip_seconds_per_byte + p.optimizer_seconds_per_byte) * p.parameter_bytes),
      fmt::format("{:.2f}", p.intra_op_speedup), r.workload.workers, p.effective_cores, p.corun_slowdown,
      std::min(r.workload.workers, p.hardware_threads), time_text(p.transport_seconds_per_message * 1e9),
      p.transport_seconds_per_byte * 1e9);
  out += fmt::format("{:<3} {:<30} {:>10} {:>10} {:>7} {:>10} {:>10}  {}\n", "", "candidate (per step)", "predicted",
                     "measured", "error", "mem/worker", "peak meas", "bound");
  print_row(out, r.baseline, r.baseline_recommended, " (baseline)");
  // Every measured row, the best rows that do not fit (one per strategy), then the best predicted up to a dozen.
  std::set<train::strategy> shown_unfit;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    const bool unfit_first = !row.predicted.fits && shown_unfit.insert(row.predicted.candidate.kind).second;
    if (!row.measured && !unfit_first && shown >= 12) {
      continue;
    }
    ++shown;
    print_row(out, row, r.recommended == i);
  }
  if (shown < r.rows.size()) {
    out += fmt::format("    ({} more candidates predicted, not shown; --json lists them all)\n", r.rows.size() - shown);
  }
  for (const auto& row : r.rows) {
    if (!row.predicted.fits && shown_unfit.erase(row.predicted.candidate.kind) > 0) {
      out += fmt::format("    {} does not fit: {}\n", row.predicted.candidate.label(), row.predicted.reason);
    }
  }
  out += fmt::format("\nverdict: {}\n\n", r.verdict);
}

void write_files(const model_output& files, const model_run& run, const verdict::model_report& r) {
  const auto* pick = r.pick();
  if (!files.svg.empty()) {
    std::vector<verdict::plot_point> pts;
    const auto add = [&](const verdict::model_row& row) {
      if (row.predicted.fits) {
        pts.push_back({row.predicted.candidate.label(),
                       row.measured ? row.measured->throughput() : row.predicted.throughput(),
                       row.predicted.memory_per_worker, row.measured.has_value(), &row == pick});
      }
    };
    add(r.baseline);
    for (const auto& row : r.rows) {
      add(row);
    }
    const auto path =
        files.suffix ? fs::path(files.svg).replace_extension("").string() + "-" + run.name + ".svg" : files.svg;
    trace::write_file(path, verdict::pareto_svg(pts, run.title, "training steps per second"), "SVG file");
  }
  if (!files.trace_dir.empty() && pick != nullptr) {
    const fs::path dir(files.trace_dir);
    trace::write_chrome(pick->measured_timeline, (dir / (run.name + "-measured.json")).string());
    const auto& s = pick->predicted.schedule;
    trace::write_chrome(pp::make_timeline(s.ranks, pick->predicted.timeline, 1e6),
                        (dir / (run.name + "-predicted.json")).string());
  }
}

std::vector<model_run> runs_for(const CLI::App& cmd, const model_flags& o, std::size_t workers, bool builtin) {
  if (builtin) {
    const std::vector<verdict::model_workload> w = verdict::builtin_model_runs(static_cast<int>(workers));
    const verdict::model_workload& tight = w[0];
    return {{tight.name,
             fmt::format("built-in model, memory per worker limited to {} (3/4 of the model's parameters, gradients "
                         "and AdamW state): {}",
                         bytes_text(tight.memory_per_worker), workload_text(tight)),
             tight},
            {w[1].name, "built-in model, no memory limit: " + workload_text(w[1]), w[1]}};
  }
  verdict::model_workload w;
  w.config = nn::preset(o.preset);
  const auto given = [&](const char* flag) { return cmd.count(flag) > 0; };
  w.config.layers = given("--layers") ? o.layers : w.config.layers;
  w.config.heads = given("--heads") ? o.heads : w.config.heads;
  w.config.embd = given("--embd") ? o.embd : w.config.embd;
  w.config.context = given("--context") ? o.context : w.config.context;
  w.seq = given("--seq") ? o.seq : w.config.context;
  w.batch = o.batch;
  w.seed = o.seed;
  w.workers = workers == 0 ? 2 : static_cast<int>(workers);
  w.memory_per_worker = static_cast<double>(o.memory_per_worker);
  w.validate();
  const std::string limit =
      w.memory_per_worker > 0 ? "memory per worker limited to " + bytes_text(w.memory_per_worker) : "no memory limit";
  return {{"model", "model, " + limit + ": " + workload_text(w), w}};
}

}  // namespace

void add_model_flags(CLI::App& cmd, model_flags& o) {
  cmd.add_flag("--model", o.model, "Judge a transformer's training step instead of a chain (flags below)");
  cmd.add_option("--preset", o.preset, "--model: the size preset, tiny, small or deep")
      ->capture_default_str()
      ->check(CLI::IsMember({"tiny", "small", "deep"}));
  cmd.add_option("--layers", o.layers, "--model: transformer blocks, 1 to 256")->check(CLI::Range(1, 256));
  cmd.add_option("--heads", o.heads, "--model: attention heads (dividing --embd)")->check(CLI::Range(1, 8192));
  cmd.add_option("--embd", o.embd, "--model: the residual stream's width, 1 to 8192")->check(CLI::Range(1, 8192));
  cmd.add_option("--context", o.context, "--model: the longest sequence, 1 to 8192")->check(CLI::Range(1, 8192));
  cmd.add_option("--seq", o.seq, "--model: tokens per row, up to --context (default: the context)")
      ->check(CLI::Range(1, 8192));
  cmd.add_option("--batch", o.batch, "--model: the global batch in rows, 1 to 65536")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  cmd.add_option("--memory-per-worker", o.memory_per_worker,
                 "--model: bytes each worker may hold (parameters, gradients, AdamW state, activations); 0: no limit")
      ->capture_default_str();
  cmd.add_option("--steps", o.steps, "--model: timed training steps per measured candidate, 1 to 20")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  cmd.add_option("--seed", o.seed, "--model: the model's init seed")->capture_default_str();
}

void check_model_flags(const CLI::App& cmd, const model_flags& o) {
  if (!o.model) {
    for (const char* flag : model_only) {
      if (cmd.count(flag) > 0) {
        throw invalid_argument(std::string(flag) + " applies with --model only");
      }
    }
    return;
  }
  for (const char* flag : {"--workload", "--chain", "--repetitions", "--size"}) {
    if (cmd.count(flag) > 0) {
      throw invalid_argument(std::string(flag) + " conflicts with --model: it applies to chains only");
    }
  }
}

void run_model_verdict(const CLI::App& cmd, const model_flags& o, std::size_t top, std::size_t workers, bool builtin,
                       const model_output& files, progress_line& progress, std::string& out, nlohmann::json* json) {
  const std::vector<model_run> runs = runs_for(cmd, o, workers, builtin);
  std::optional<verdict::model_profile> profile;
  for (const auto& run : runs) {
    verdict::model_options mo;
    mo.top = static_cast<int>(top);
    mo.steps = o.steps;
    mo.progress = [&progress, &run](const std::string& what, double done) { progress(run.name, what, done); };
    const auto report = verdict::compare_model(run.workload, mo, profile ? &*profile : nullptr);
    profile = report.profile;  // one profile serves every limit of the same model
    if (json != nullptr) {
      (*json)["models"].push_back(report_json(run, report));
    } else {
      print_report(out, run, report);
    }
    write_files(files, run, report);
  }
}

}  // namespace taskpipe::cli
