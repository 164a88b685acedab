#include "schedule_command.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/pp/generators.hpp"
#include "taskpipe/pp/notation.hpp"
#include "taskpipe/pp/simulate.hpp"
#include "taskpipe/pp/validate.hpp"
#include "taskpipe/trace/chrome_trace.hpp"
#include "taskpipe/trace/svg.hpp"
#include "taskpipe/trace/text_view.hpp"

namespace taskpipe::cli {
namespace {

struct schedule_cli {
  std::string kind = "1f1b";
  int stages = 4;
  int microbatches = 8;
  int chunks = 2;
  int layers = 0;
  std::string costs = "f=1,b=1,w=1,comm=0";
  int memory_limit = 0;
  std::string svg;
  std::string trace;
  std::string csv;
  std::string import;
  int width = 100;
  bool json = false;
  bool compare = false;
};

double parse_number(const std::string& key, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    throw invalid_argument("--costs: " + key + "=" + text + " is not a number");
  }
  return v;
}

// "f=1,b=2,w=1,comm=0.1,act=1e6,wact=1e5"; a value may list one number per stage separated by ':' ("f=1:2:1:1").
pp::costs parse_costs(const std::string& spec) {
  std::vector<double> f{1}, b{1}, w{1}, act{0}, wact{0};
  double comm = 0;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) {
      continue;
    }
    const std::size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    if (eq == std::string::npos) {
      throw invalid_argument("--costs: '" + item + "' is not key=value");
    }
    std::vector<double> values;
    std::size_t vs = eq + 1;
    while (vs <= item.size()) {
      const std::size_t colon = std::min(item.find(':', vs), item.size());
      values.push_back(parse_number(key, item.substr(vs, colon - vs)));
      vs = colon + 1;
    }
    if (key == "f") {
      f = values;
    } else if (key == "b") {
      b = values;
    } else if (key == "w") {
      w = values;
    } else if (key == "act") {
      act = values;
    } else if (key == "wact") {
      wact = values;
    } else if (key == "comm" && values.size() == 1) {
      comm = values[0];
    } else {
      throw invalid_argument("--costs: unknown key '" + key +
                             "': expected f, b, w, act, wact (per stage with ':') or comm");
    }
  }
  std::size_t n = 1;
  for (const auto* list : {&f, &b, &w, &act, &wact}) {
    if (list->size() == 1) {
      continue;
    }
    if (n != 1 && list->size() != n) {
      throw invalid_argument("--costs: per-stage lists of " + std::to_string(n) + " and " +
                             std::to_string(list->size()) + " values: give one value or one per stage");
    }
    n = list->size();
  }
  auto at = [](const std::vector<double>& list, std::size_t i) { return list.size() == 1 ? list[0] : list[i]; };
  pp::costs c;
  c.comm = comm;
  for (std::size_t i = 0; i < n; ++i) {
    c.per_stage.push_back({at(f, i), at(b, i), at(w, i), at(act, i), at(wact, i)});
  }
  pp::validate_costs(c);
  return c;
}

// --costs describe one stage per rank; a kind that splits a rank's layers into v chunks gives each chunk 1/v of them
// (a per-stage list as long as all chunks is taken as it is).
pp::costs for_kind(pp::kind k, const pp::costs& c, int stages, int chunks) {
  const bool vee = k == pp::kind::zb_v || k == pp::kind::dualpipe_v;
  const int v = k == pp::kind::interleaved ? chunks : vee ? 2 : 1;
  if (v <= 1 || static_cast<int>(c.per_stage.size()) == stages * v) {
    return c;
  }
  if (c.per_stage.size() != 1 && static_cast<int>(c.per_stage.size()) != stages) {
    return c;  // refused later
  }
  const auto rank_of = vee ? pp::v_placement(stages) : pp::looped_placement(stages, v);
  pp::costs out;
  out.comm = c.comm;
  for (int s = 0; s < stages * v; ++s) {
    pp::stage_cost sc = c.at(rank_of[static_cast<std::size_t>(s)]);
    sc.f /= v;
    sc.b /= v;
    sc.w /= v;
    sc.activation_bytes /= v;
    sc.w_bytes /= v;
    out.per_stage.push_back(sc);
  }
  return out;
}

pp::schedule_options options_of(const schedule_cli& o, const pp::costs& c) {
  pp::schedule_options so{.ranks = o.stages, .microbatches = o.microbatches, .chunks = o.chunks, .layers = o.layers};
  so.planning_costs = c;
  so.memory_limit = o.memory_limit;
  return so;
}

nlohmann::json figures(const pp::schedule& s, const pp::simulation& sim) {
  nlohmann::json j;
  j["kind"] = s.name;
  j["ranks"] = s.ranks;
  j["stages"] = s.stages;
  j["microbatches"] = s.microbatches;
  j["makespan"] = sim.makespan();
  j["cost"] = sim.cost();
  j["bubble_rate"] = sim.bubble_rate();
  j["megatron_bubble"] = sim.megatron_bubble();
  for (int r = 0; r < s.ranks; ++r) {
    j["peak_activations"].push_back(sim.peak_activations(r));
    j["peak_activations_until_w"].push_back(sim.peak_activations_until_w(r));
    j["peak_activation_bytes"].push_back(sim.peak_activation_bytes(r));
    j["peak_memory"].push_back(sim.peak_memory(r));
    j["busy"].push_back(sim.busy(r));
    j["idle"].push_back(sim.idle(r));
    j["bubble"].push_back(sim.bubble(r));
  }
  return j;
}

// The memory limit zb-auto plans under, in the paper's M_B: --memory-limit, or its default 2P - 1.
int memory_limit_of(const schedule_cli& o) { return o.memory_limit > 0 ? o.memory_limit : 2 * o.stages - 1; }

double max_peak_memory(const pp::simulation& sim) {
  double peak = 0;
  for (int r = 0; r < sim.ranks(); ++r) {
    peak = std::max(peak, sim.peak_memory(r));
  }
  return peak;
}

void print_one(const schedule_cli& o, const pp::schedule& s, const pp::costs& c) {
  const auto sim = pp::simulate(s, c);  // validates first
  const bool planned_under_limit = o.import.empty() && s.name == pp::kind_name(pp::kind::zb_auto);
  if (!o.svg.empty()) {
    trace::write_svg(sim.timeline(), o.svg);
  }
  if (!o.trace.empty()) {
    trace::write_chrome(sim.timeline(), o.trace);
  }
  if (!o.csv.empty()) {
    pp::save_csv(s, o.csv);
  }
  if (o.json) {
    auto j = figures(s, sim);
    if (planned_under_limit) {
      j["memory_limit"] = memory_limit_of(o);
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{}: {} ranks, {} stages, {} micro-batches (valid: complete, no deadlock)\n", s.name, s.ranks, s.stages,
             s.microbatches);
  if (planned_under_limit) {
    fmt::print("memory limit {} M_B per rank{} (peak {:.3g})\n", memory_limit_of(o),
               o.memory_limit > 0 ? "" : " (the default, 2P - 1)", max_peak_memory(sim));
  }
  fmt::print("\n");
  fmt::print("{}\n{}\n", pp::to_text(s), trace::text_view(sim.timeline(), o.width));
  fmt::print(
      "makespan {:.4g}   cost {:.4g} (longest rank)   bubble rate {:.2f}% (bubble / ranks x cost)   megatron bubble "
      "{:.2f}% (idle / busy)\n\n",
      sim.makespan(), sim.cost(), 100 * sim.bubble_rate(), 100 * sim.megatron_bubble());
  fmt::print("{:<6}{:>12}{:>12}{:>12}{:>18}{:>20}{:>12}\n", "rank", "busy", "idle", "bubble", "peak activations",
             "peak bytes", "peak M_B");
  for (int r = 0; r < s.ranks; ++r) {
    fmt::print("{:<6}{:>12.4g}{:>12.4g}{:>12.4g}{:>18}{:>20.6g}{:>12.4g}\n", r, sim.busy(r), sim.idle(r), sim.bubble(r),
               sim.peak_activations(r), sim.peak_activation_bytes(r), sim.peak_memory(r));
  }
}

void print_compare(const schedule_cli& o, const pp::costs& c) {
  nlohmann::json rows = nlohmann::json::array();
  const int limit = memory_limit_of(o);
  if (!o.json) {
    fmt::print("p = {}, m = {}, v = {} (interleaved), memory limit {} M_B per rank{}\n\n", o.stages, o.microbatches,
               o.chunks, limit, o.memory_limit > 0 ? "" : " (the default, 2P - 1)");
    fmt::print("{:<13}{:>12}{:>14}{:>17}{:>18}{:>14}{:>10}\n", "kind", "makespan", "bubble rate", "megatron bubble",
               "max peak acts", "peak M_B", "in limit");
  }
  for (const auto k : pp::all_kinds()) {
    std::string refused;
    std::optional<pp::simulation> sim;
    try {
      const pp::costs kc = for_kind(k, c, o.stages, o.chunks);
      sim = pp::simulate(pp::make_schedule(k, options_of(o, kc)), kc);
    } catch (const invalid_argument& e) {
      refused = e.what();  // one kind refusing these parameters must not hide the others
    }
    if (o.json) {
      nlohmann::json row{{"kind", pp::kind_name(k)}};
      if (sim) {
        row["makespan"] = sim->makespan();
        row["cost"] = sim->cost();
        row["bubble_rate"] = sim->bubble_rate();
        row["megatron_bubble"] = sim->megatron_bubble();
        for (int r = 0; r < sim->ranks(); ++r) {
          row["peak_activations"].push_back(sim->peak_activations(r));
          row["peak_memory"].push_back(sim->peak_memory(r));
        }
        row["memory_limit"] = limit;
        row["within_memory_limit"] = max_peak_memory(*sim) <= limit + 1e-9;
      } else {
        row["error"] = refused;
      }
      rows.push_back(row);
      continue;
    }
    if (!sim) {
      fmt::print("{:<13}  refused: {}\n", pp::kind_name(k), refused);
      continue;
    }
    int peak = 0;
    for (int r = 0; r < sim->ranks(); ++r) {
      peak = std::max(peak, sim->peak_activations(r));
    }
    const double peak_mb = max_peak_memory(*sim);
    fmt::print("{:<13}{:>12.4g}{:>13.2f}%{:>16.2f}%{:>18}{:>14.4g}{:>10}\n", pp::kind_name(k), sim->makespan(),
               100 * sim->bubble_rate(), 100 * sim->megatron_bubble(), peak, peak_mb,
               peak_mb <= limit + 1e-9 ? "yes" : "no");
  }
  if (o.json) {
    fmt::print("{}\n", rows.dump(2));
  }
}

void run_schedule_command(const schedule_cli& o) {
  const pp::costs c = parse_costs(o.costs);
  if (o.width < 1) {
    throw invalid_argument("--width " + std::to_string(o.width) + ": must be >= 1");
  }
  if (o.compare) {
    print_compare(o, c);
    return;
  }
  if (!o.import.empty()) {
    print_one(o, pp::load_csv(o.import), c);
    return;
  }
  const pp::kind k = pp::parse_kind(o.kind);
  const pp::costs kc = for_kind(k, c, o.stages, o.chunks);
  print_one(o, pp::make_schedule(k, options_of(o, kc)), kc);
}

}  // namespace

void add_schedule_command(CLI::App& app) {
  auto opts = std::make_shared<schedule_cli>();
  CLI::App* cmd = app.add_subcommand(
      "schedule", "Generate, validate, simulate and draw a model-pipeline schedule (GPipe, 1F1B, zero bubble, ...)");
  cmd->add_option("-k,--kind", opts->kind, "gpipe, 1f1b, interleaved, zb-h1, zb-h2, zb-v, zb-auto or dualpipe-v")
      ->capture_default_str();
  cmd->add_option("-p,--stages", opts->stages, "Pipeline ranks P")->capture_default_str();
  cmd->add_option("-m,--microbatches", opts->microbatches, "Micro-batches M")->capture_default_str();
  cmd->add_option("-v,--chunks", opts->chunks, "Chunks per rank V (interleaved)")->capture_default_str();
  cmd->add_option("--layers", opts->layers, "Model layers; refused unless they split evenly over the stages");
  cmd->add_option("--costs", opts->costs,
                  "Times and sizes of one rank's stage: f,b,w (per stage with ':', e.g. f=1:2:1:1), comm, act "
                  "(activation bytes, held until I) and wact (the part of act kept until W); interleaved, zb-v and "
                  "dualpipe-v give each chunk its share")
      ->capture_default_str();
  cmd->add_option("--memory-limit", opts->memory_limit,
                  "zb-auto: activation memory a rank may hold, in the Zero Bubble paper's M_B: one micro-batch's "
                  "activations of the rank's layers, held from F until I except the W's share (wact/act; all of it "
                  "without act), held until W (default 2P-1; --compare marks the kinds within it)");
  cmd->add_option("--svg", opts->svg, "Write the simulated timeline as SVG");
  cmd->add_option("--trace", opts->trace, "Write the simulated timeline as Chrome-trace JSON (Perfetto)");
  cmd->add_option("--csv", opts->csv, "Write the schedule in torch.distributed.pipelining CSV");
  cmd->add_option("--import", opts->import, "Validate and simulate a schedule from torch's CSV format");
  cmd->add_option("--width", opts->width, "Columns of the terminal timeline")->capture_default_str();
  cmd->add_flag("--compare", opts->compare, "One row per kind for the same P, M and costs");
  cmd->add_flag("--json", opts->json, "Print makespan, bubble rates and peak activations as JSON");
  cmd->callback([opts] { run_schedule_command(*opts); });
}

}  // namespace taskpipe::cli
