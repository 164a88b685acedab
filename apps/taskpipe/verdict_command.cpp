#include "verdict_command.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/trace/write_file.hpp"
#include "taskpipe/verdict/chain_workload.hpp"
#include "taskpipe/verdict/gzip_chain.hpp"
#include "taskpipe/verdict/pareto_svg.hpp"
#include "taskpipe/verdict/stream_verdict.hpp"
#include "taskpipe/verdict/synthetic_chain.hpp"
#include "taskpipe/verdict/text_chains.hpp"
#include "verdict_common.hpp"
#if TASKPIPE_CLI_HAS_NN
#include "verdict_model.hpp"
#endif

namespace taskpipe::cli {
namespace {

namespace fs = std::filesystem;

struct verdict_options {
  std::string workload;
  std::string chain;
  std::size_t workers = 0;
  std::size_t top = 3;
  std::size_t repetitions = 3;
  std::size_t size_mib = 16;
  bool json = false;
  std::string svg;
  std::string trace_dir;
#if TASKPIPE_CLI_HAS_NN
  model_flags model;
#endif
};

// Whether a run judges the built-in model too: no chain and no model named.
bool builtin_model(const verdict_options& o) {
#if TASKPIPE_CLI_HAS_NN
  return o.workload.empty() && o.chain.empty() && !o.model.model;
#else
  (void)o;
  return false;
#endif
}

bool model_only(const verdict_options& o) {
#if TASKPIPE_CLI_HAS_NN
  return o.model.model;
#else
  (void)o;
  return false;
#endif
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw error("cannot read workload '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) {
    throw error("cannot read workload '" + path + "'");
  }
  return s.str();
}

/// A scratch directory for the gzip chain's files, removed on exit.
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    path = fs::temp_directory_path() / ("taskpipe-verdict-" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

struct chain_run {
  std::string title;
  verdict::chain_factory make;
  verdict::stream_options options;
};

nlohmann::json report_json(const chain_run& run, const verdict::stream_report& r) {
  nlohmann::json j;
  j["chain"] = run.title;
  j["cores"] = r.cores;
  j["baseline_throughput"] = r.baseline_throughput;
  for (const auto& s : r.profile.stages) {
    j["profile"].push_back({{"name", s.name},
                            {"mode", std::string(to_string(s.mode))},
                            {"mean_ns", s.mean_ns},
                            {"shared_mean_ns", s.shared_mean_ns},
                            {"spread", s.spread},
                            {"state_bytes", s.state_bytes},
                            {"item_bytes", s.item_bytes}});
  }
  j["effective_cores"] = r.profile.effective_cores;
  j["core_round_trip_ns"] = r.profile.core_round_trip_ns;
  for (const auto& c : r.calibrations) {
    j["calibrations"].push_back(
        {{"core_round_trip_ns", c.profile.core_round_trip_ns}, {"found_ns", c.found_ns}, {"before", c.before}});
  }
  j["handoff_ns"] = {{"token", r.profile.handoff_ns[0]},
                     {"pinned", r.profile.handoff_ns[1]},
                     {"pinned_one_thread", r.profile.pinned_solo_handoff_ns},
                     {"farm", r.profile.handoff_ns[2]},
                     {"token_one_worker", r.profile.handoff_one_worker_ns[0]},
                     {"farm_one_worker", r.profile.handoff_one_worker_ns[2]}};
  // The calibration's reference runs (every worker, 16 in flight, untimed) and the contention fitted to them.
  j["reference_throughput"] = {{"token", r.profile.shared_reference_throughput},
                               {"pinned", r.profile.pinned_reference_throughput}};
  j["contention_ns"] = {{"token", r.profile.shared_handoff_extra_ns}, {"pinned", r.profile.pinned_handoff_extra_ns}};
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    const auto& c = row.predicted.candidate;
    nlohmann::json k{{"strategy", std::string(to_string(c.strategy))},
                     {"workers", c.workers},
                     {"max_in_flight", c.max_in_flight},
                     {"threads", row.predicted.threads},
                     {"predicted_throughput", row.predicted.throughput},
                     {"predicted_latency_p50_ns", row.predicted.latency_p50_ns},
                     {"predicted_latency_p99_ns", row.predicted.latency_p99_ns},
                     {"memory_per_worker", row.predicted.memory_per_worker},
                     {"bound", row.predicted.bound_text(r.profile)},
                     {"placement", row.predicted.placement},
                     {"recommended", i == r.recommended},
                     {"calibration", row.calibration}};
    if (row.measured) {
      k["measured_throughput"] = row.measured->throughput;
      k["measured_spread"] = row.measured->spread;
      k["measured_latency_p50_ns"] = row.measured->latency_p50_ns;
      k["measured_latency_p99_ns"] = row.measured->latency_p99_ns;
      k["error"] = *row.error();
      k["measured_core_round_trip_ns"] = {row.measured->core_round_trip_before_ns,
                                          row.measured->core_round_trip_after_ns};
      if (c.strategy == execution_strategy::pinned) {
        k["measured_threads"] = row.measured->threads;
        k["measured_placement"] = row.measured->placement;
      }
    }
    j["candidates"].push_back(k);
  }
  j["tied"] = r.tied;
  j["verdict"] = r.verdict;
  return j;
}

void print_report(std::string& out, const chain_run& run, const verdict::stream_report& r) {
  out += fmt::format("{}\n", run.title);
  out += fmt::format("calibration (every item timed, median of 3 runs):");
  for (const auto& s : r.profile.stages) {
    out += fmt::format(" {} {}{} ({}{}, spread {:.2f});", s.name, time_text(s.mean_ns),
                       s.shared_mean_ns > 0 ? " / " + time_text(s.shared_mean_ns) : "",
                       is_serial(s.mode) ? "serial" : "parallel",
                       s.state_bytes > 0 ? ", state " + bytes_text(static_cast<double>(s.state_bytes)) : "", s.spread);
  }
  if (!r.profile.stages.empty() && r.profile.stages.front().shared_mean_ns > 0) {
    out += " (one worker / all workers under token, where items and state cross cores)";
  }
  out += fmt::format(
      "\none worker, one item at a time: {}; hand-off: token {} per stage, pinned {} per segment ({} on one "
      "thread){}; cores free now: {:.2f}{}\n",
      rate_text(r.baseline_throughput), time_text(r.profile.handoff_ns[0]), time_text(r.profile.handoff_ns[1]),
      time_text(r.profile.pinned_solo_handoff_ns),
      r.profile.farm_allowed() ? ", farm " + time_text(r.profile.handoff_ns[2]) + " per stage" : "",
      r.profile.effective_cores,
      r.profile.core_round_trip_ns > 0
          ? fmt::format("; core-to-core round trip {:.0f} ns", r.profile.core_round_trip_ns)
          : "");
  for (std::size_t k = 1; k < r.calibrations.size(); ++k) {
    const auto& c = r.calibrations[k];
    out += fmt::format(
        "the machine changed: core-to-core round trip {:.0f} ns before measuring '{}' (the host moved the cores; the "
        "calibration above was taken at {:.0f} ns); calibrated again at {:.0f} ns, and the candidates measured in that "
        "regime are predicted from it (marked {})\n",
        c.found_ns, c.before, r.profile.core_round_trip_ns, c.profile.core_round_trip_ns, std::string(k, '\''));
  }
  // Where pinned runs its stages on the largest budget (every pinned candidate of that many workers shares it).
  const verdict::stream_row* widest = nullptr;
  for (const auto& row : r.rows) {
    if (row.predicted.candidate.strategy == execution_strategy::pinned &&
        (widest == nullptr || row.predicted.candidate.workers > widest->predicted.candidate.workers)) {
      widest = &row;
    }
  }
  if (widest != nullptr) {
    out += fmt::format("pinned on {} threads: {}\n", widest->predicted.candidate.workers, widest->predicted.placement);
  }
  out += "\n";
  out += fmt::format("{:<4} {:<34} {:>11} {:>11} {:>7} {:>11} {:>11}  {}\n", "", "candidate", "predicted", "measured",
                     "error", "p99 latency", "mem/worker", "bound");
  std::size_t shown = 0;
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    // Every measured candidate, and the predictions around them up to a dozen rows.
    if (!row.measured && shown >= 12) {
      continue;
    }
    ++shown;
    const auto err = row.error();
    out += fmt::format(
        "{:<4} {:<34} {:>11} {:>11} {:>7} {:>11} {:>11}  {}\n", i == r.recommended ? "=>" : "",
        row.predicted.candidate.label() + std::string(row.calibration, '\''), rate_text(row.predicted.throughput),
        row.measured ? rate_text(row.measured->throughput) : "-", err ? fmt::format("{:.1f}%", *err * 100) : "-",
        time_text(row.measured ? row.measured->latency_p99_ns : row.predicted.latency_p99_ns),
        bytes_text(static_cast<double>(row.predicted.memory_per_worker)), row.predicted.bound_text(r.profile));
  }
  if (shown < r.rows.size()) {
    out +=
        fmt::format("     ({} more candidates predicted, not shown; --json lists them all)\n", r.rows.size() - shown);
  }
  out += fmt::format("\nverdict: {}\n\n", r.verdict);
}

void write_outputs(const verdict_options& o, const chain_run& run, const verdict::stream_report& r,
                   const std::string& suffix) {
  if (!o.svg.empty()) {
    std::vector<verdict::plot_point> pts;
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
      const auto& row = r.rows[i];
      pts.push_back(
          {row.predicted.candidate.label(), row.measured ? row.measured->throughput : row.predicted.throughput,
           static_cast<double>(row.predicted.memory_per_worker), row.measured.has_value(), i == r.recommended});
    }
    const auto path = suffix.empty() ? o.svg : fs::path(o.svg).replace_extension("").string() + "-" + suffix + ".svg";
    trace::write_file(path, verdict::pareto_svg(pts, run.title, "items per second"), "SVG file");
  }
  if (!o.trace_dir.empty()) {
    // The winner once more, every item timed, its timeline written by the pipeline's own tracer.
    const auto& c = r.rows[r.recommended].predicted.candidate;
    executor ex{executor_options{.workers = c.workers}};
    const auto path = (fs::path(o.trace_dir) / ((suffix.empty() ? "chain" : suffix) + "-measured.json")).string();
    auto po = verdict::stream_run_options(r.profile, c);
    po.trace_path = path;
    auto p = run.make(ex, po);
    (void)p.run();
  }
}

void check_conflicts(const verdict_options& o) {
  if (!o.workload.empty() && !o.chain.empty()) {
    throw invalid_argument("--workload and --chain both name the chain to judge; give one");
  }
  if (!o.trace_dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(o.trace_dir, ec)) {
      throw invalid_argument("--trace " + o.trace_dir + ": not a directory (create it first)");
    }
  }
  if (!o.svg.empty() && fs::is_directory(o.svg)) {
    throw invalid_argument("--svg " + o.svg + ": is a directory; give a file name");
  }
}

void run_verdict(const CLI::App& cmd, const verdict_options& o) {
  check_conflicts(o);
#if TASKPIPE_CLI_HAS_NN
  check_model_flags(cmd, o.model);
#else
  (void)cmd;
#endif
  std::vector<chain_run> runs;
  std::unique_ptr<scratch_dir> scratch;
  verdict::stream_options base{.max_workers = o.workers, .top = o.top, .repetitions = o.repetitions};
  if (!o.workload.empty()) {
    const auto w = verdict::parse_chain_workload(read_text_file(o.workload), o.workload);
    chain_run r{"workload '" + w.name + "' (" + o.workload + ", " + std::to_string(w.items) + " items)",
                [w](executor& ex, const pipeline_options& po) { return verdict::make_synthetic_pipeline(ex, w, po); },
                base};
    for (const auto& s : w.stages) {
      r.options.state_bytes.push_back(s.state_bytes);
      r.options.item_bytes.push_back(s.item_bytes);
    }
    runs.push_back(std::move(r));
  }
  const std::string chain = o.workload.empty() && o.chain.empty() && !model_only(o) ? "gzip" : o.chain;
  if (chain == "gzip") {
    scratch = std::make_unique<scratch_dir>();
    const auto in = (scratch->path / "input.txt").string();
    verdict::write_generated_text(in, o.size_mib << 20U);
    runs.push_back({fmt::format("gzip chain: read 128 KiB chunks -> zlib deflate (level 6) -> write in order, {} MiB "
                                "of generated text",
                                o.size_mib),
                    verdict::gzip_chain({.input = in, .output = (scratch->path / "output.gz").string()}), base});
    // A chunk's bytes live on the heap: 128 KiB read, about a third of that after deflate.
    runs.back().options.item_bytes = {std::size_t{128} << 10U, std::size_t{48} << 10U, 0};
  } else if (chain == "words") {
    runs.push_back({"word-frequency chain: read -> tokenize -> count -> merge in order, 200000 lines",
                    verdict::word_frequency_chain(200000), base});
  } else if (chain == "state") {
    auto r = chain_run{"stateful chain: read -> hash -> count-min sketch (serial, 1 MiB table) -> sum, 200000 lines",
                       verdict::stateful_chain(200000, std::size_t{1} << 20U), base};
    r.options.state_bytes = {0, 0, std::size_t{1} << 20U, 0};
    runs.push_back(std::move(r));
  }
  // Files that cannot be written are refused before any work (a placeholder is written and flushed now, replaced
  // at the end), and the report goes to stdout only once every file is written: a failure prints one line only.
  if (!o.svg.empty()) {
    trace::write_file(o.svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n", "SVG file");
  }
  progress_line progress{o.json};
  nlohmann::json all;
  std::string out;
  if (!o.json) {
    out += fmt::format("taskpipe verdict: {} cores", std::max(1U, std::thread::hardware_concurrency()));
    if (!runs.empty()) {
      out += fmt::format("; each chain candidate measured {} time(s), the median shown", o.repetitions);
    }
#if TASKPIPE_CLI_HAS_NN
    if (model_only(o) || builtin_model(o)) {
      out += fmt::format("; each model candidate trained {} step(s) after a warm-up, the median shown", o.model.steps);
    }
#endif
    out += "\n\n";
  }
  const std::size_t reports = runs.size() + (builtin_model(o) ? 2 : 0);
  for (auto& run : runs) {
    const std::string name = run.title.substr(0, run.title.find(':'));
    run.options.progress = [&progress, name](const std::string& what, double done) { progress(name, what, done); };
    const auto report = verdict::compare(run.make, run.options);
    if (o.json) {
      all["chains"].push_back(report_json(run, report));
    } else {
      print_report(out, run, report);
    }
    write_outputs(o, run, report, reports > 1 ? name.substr(0, name.find(' ')) : "");
  }
#if TASKPIPE_CLI_HAS_NN
  if (model_only(o) || builtin_model(o)) {
    const model_output files{.svg = o.svg, .trace_dir = o.trace_dir, .suffix = reports > 1};
    run_model_verdict(cmd, o.model, o.top, o.workers, builtin_model(o), files, progress, out, o.json ? &all : nullptr);
  }
#endif
  if (!o.svg.empty() && reports > 1) {
    fs::remove(o.svg);  // the placeholder: each report wrote its own file
  }
  if (o.json) {
    out = all.dump(2) + "\n";
  }
  fmt::print("{}", out);
}

}  // namespace

void add_verdict_command(CLI::App& app) {
  auto o = std::make_shared<verdict_options>();
  CLI::App* cmd = app.add_subcommand("verdict",
                                     "Predict, measure and recommend a strategy for a streaming chain (token, pinned, "
                                     "farm) or a transformer's training step (task, dp, pp, hybrid)");
  cmd->footer(
      "With nothing named, judges the built-in gzip chain and the built-in model (under a tight memory limit and\n"
      "with no limit). --model judges a GPT-2 training step on --workers workers (default 2): task (intra-op\n"
      "threads), dp, pp (every schedule kind, M from P to 8P) and hybrid, predicted from one profiling run (per-layer\n"
      "F, B, W and activation bytes, the optimizer, the transport), those over --memory-per-worker listed with the\n"
      "reason, the best --top trained for --steps steps beside the one-worker baseline.\n"
      "A chain workload file is JSON:\n"
      "  {\"name\": \"etl\", \"items\": 20000, \"stages\": [\n"
      "    {\"name\": \"read\", \"mode\": \"serial_in_order\", \"cost_us\": 4},\n"
      "    {\"name\": \"parse\", \"mode\": \"parallel\", \"cost_us\": 40, \"spread\": 0.5, \"item_bytes\": 512},\n"
      "    {\"name\": \"write\", \"mode\": \"serial_in_order\", \"cost_us\": 6, \"state_bytes\": 1048576}]}\n"
      "Stages: 2 to 64, source first (always serial_in_order), sink last; mode serial_in_order, serial_out_of_order\n"
      "or parallel; cost_us 0 to 1e6 (CPU time per item; stages burn it, they do not sleep); spread 0 to 4\n"
      "(coefficient of variation); state_bytes 0 to 2^30; item_bytes 0 to 2^26 (default 64); items 1 to 10^7.\n"
      "The model: throughput is the least of the serial-stage, cores, stage-threads and tokens bounds, from one\n"
      "calibration run; the best-predicted candidates are then measured and the prediction error shown.");
  cmd->add_option("--workload", o->workload, "A JSON chain workload to judge (schema below)")->check(CLI::ExistingFile);
  cmd->add_option("--chain", o->chain,
                  "A built-in chain: gzip (compression), words (word frequencies), state "
                  "(a large-state serial stage)")
      ->check(CLI::IsMember({"gzip", "words", "state"}));
  cmd->add_option("-w,--workers", o->workers,
                  "Chains: most workers a candidate may use, 1 to 256 (default: the cores); --model: the workers "
                  "every candidate uses, 1 to 64 (default 2)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--top", o->top, "Candidates to measure, 1 to 64 (the best-predicted of each strategy first)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("-r,--repetitions", o->repetitions, "Runs per measured candidate, 1 to 20; the median is shown")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  cmd->add_option("--size", o->size_mib, "MiB of text the gzip chain compresses, 1 to 1024")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->add_option("--svg", o->svg, "Write a plot of throughput against memory per worker, Pareto front marked");
  cmd->add_option("--trace", o->trace_dir,
                  "Write the recommended candidate's measured (and, for a model, predicted) timeline into this "
                  "directory");
#if TASKPIPE_CLI_HAS_NN
  add_model_flags(*cmd, o->model);
#endif
  cmd->callback([o, cmd] {
    if (cmd->count("--size") > 0 && !(o->chain == "gzip" || (o->chain.empty() && o->workload.empty()))) {
      throw invalid_argument("--size applies to the gzip chain only");
    }
    run_verdict(*cmd, *o);
  });
}

}  // namespace taskpipe::cli
