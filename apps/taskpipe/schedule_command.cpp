#include "schedule_command.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "options.hpp"
#include "taskpipe/detail/quote.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/pp/cost_spec.hpp"
#include "taskpipe/pp/generators.hpp"
#include "taskpipe/pp/limits.hpp"
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
  int ranks = 4;
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

// The options whose presence matters: a flag that another one makes meaningless is refused, not ignored.
struct given_options {
  CLI::Option* kind = nullptr;
  CLI::Option* ranks = nullptr;
  CLI::Option* microbatches = nullptr;
  CLI::Option* chunks = nullptr;
  CLI::Option* layers = nullptr;
  CLI::Option* memory_limit = nullptr;
  CLI::Option* svg = nullptr;
  CLI::Option* trace = nullptr;
  CLI::Option* csv = nullptr;
  CLI::Option* import = nullptr;
  CLI::Option* width = nullptr;
  CLI::Option* json = nullptr;
  CLI::Option* compare = nullptr;
};

bool given(const CLI::Option* o) { return o->count() > 0; }

// Refuses `b` beside `a`, saying why `b` would be ignored.
void refuse_with(const CLI::Option* a, const CLI::Option* b, const std::string& why) {
  if (given(a) && given(b)) {
    throw invalid_argument(a->get_name() + " and " + b->get_name() + " do not go together: " + why);
  }
}

// Two spellings of one path ("a.csv", "./a.csv", a link to it) name one file.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ea;
  std::error_code eb;
  const auto ca = std::filesystem::weakly_canonical(a, ea);
  const auto cb = std::filesystem::weakly_canonical(b, eb);
  return a == b || (!ea && !eb && ca == cb);
}

void check_flags(const schedule_cli& o, const given_options& g) {
  for (const auto* file : {g.svg, g.trace, g.csv}) {
    refuse_with(g.compare, file, "--compare prints one row per kind and writes no file; drop one of them");
  }
  refuse_with(g.compare, g.kind, "--compare runs every kind");
  refuse_with(g.compare, g.import, "--compare generates its schedules; an imported one is simulated alone");
  refuse_with(g.compare, g.width, "--compare prints no timeline");
  for (const auto* shape : {g.kind, g.ranks, g.microbatches, g.chunks, g.layers, g.memory_limit}) {
    refuse_with(g.import, shape, "an imported schedule brings its own kind, ranks, stages and micro-batches");
  }
  refuse_with(g.json, g.width, "--json prints no timeline");
  if (!o.compare && o.import.empty()) {
    const pp::kind k = pp::parse_kind(detail::quote(o.kind));
    if (given(g.chunks) && k != pp::kind::interleaved) {
      throw invalid_argument("--chunks is for --kind interleaved (" + std::string(pp::kind_name(k)) +
                             (k == pp::kind::zb_v ? " always has 2)" : " has 1 per rank)"));
    }
    if (given(g.memory_limit) && k != pp::kind::zb_auto) {
      throw invalid_argument("--memory-limit is for --kind zb-auto, not " + std::string(pp::kind_name(k)));
    }
  }
  std::vector<std::pair<const CLI::Option*, const std::string*>> paths{
      {g.svg, &o.svg}, {g.trace, &o.trace}, {g.csv, &o.csv}, {g.import, &o.import}};
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!given(paths[i].first)) {
      continue;
    }
    if (paths[i].second->empty()) {
      throw invalid_argument(paths[i].first->get_name() + ": the file name is empty");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (given(paths[j].first) && same_file(*paths[j].second, *paths[i].second)) {
        throw invalid_argument(paths[j].first->get_name() + " and " + paths[i].first->get_name() + " name one file '" +
                               detail::quote(*paths[i].second, 200) + "': the second would overwrite the first");
      }
    }
  }
}

pp::costs parse_costs(const std::string& spec) {
  try {
    return pp::parse_cost_spec(spec);
  } catch (const invalid_argument& e) {
    throw invalid_argument(std::string("--costs: ") + e.what());
  }
}

// Costs per model stage, by the rule of cost_spec.hpp (one entry, one per rank split over its chunks, or one per
// stage), for a generated schedule before it exists (the zero-bubble kinds plan with them) or an imported one.
pp::costs costs_for(const pp::costs& c, const std::vector<int>& stage_rank, int ranks) {
  try {
    return pp::costs_for_stages(c, stage_rank, ranks);
  } catch (const invalid_argument& e) {
    throw invalid_argument(std::string("--costs: ") + e.what());
  }
}

pp::costs for_kind(pp::kind k, const pp::costs& c, int ranks, int chunks) {
  const auto rank_of = k == pp::kind::interleaved                           ? pp::looped_placement(ranks, chunks)
                       : (k == pp::kind::zb_v || k == pp::kind::dualpipe_v) ? pp::v_placement(ranks)
                                                                            : pp::linear_placement(ranks);
  return costs_for(c, rank_of, ranks);
}

pp::schedule_options options_of(const schedule_cli& o, const pp::costs& c) {
  pp::schedule_options so{.ranks = o.ranks, .microbatches = o.microbatches, .chunks = o.chunks, .layers = o.layers};
  so.planning_costs = c;
  so.memory_limit = o.memory_limit;
  return so;
}

// Generates kind `k` after the size limits (limits.hpp), which refuse what would exhaust memory or time.
pp::schedule generate(pp::kind k, const schedule_cli& o, const pp::costs& kc) {
  const pp::schedule_options so = options_of(o, kc);
  pp::check_limits(k, so);
  return pp::make_schedule(k, so);
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
int memory_limit_of(const schedule_cli& o) { return o.memory_limit > 0 ? o.memory_limit : 2 * o.ranks - 1; }

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
  // Every kind first: when none accepts the parameters (--ranks 0) that is an error, not a table of refusals.
  std::vector<std::string> refusals;
  std::vector<std::optional<pp::simulation>> sims;
  for (const auto k : pp::all_kinds()) {
    std::string refused;
    std::optional<pp::simulation> sim;
    try {
      pp::check_limits(k, options_of(o, c));  // before for_kind allocates per stage
      const pp::costs kc = for_kind(k, c, o.ranks, o.chunks);
      sim = pp::simulate(generate(k, o, kc), kc);
    } catch (const invalid_argument& e) {
      refused = e.what();  // one kind refusing these parameters must not hide the others
    }
    refusals.push_back(refused);
    sims.push_back(std::move(sim));
  }
  if (std::none_of(sims.begin(), sims.end(), [](const auto& sim) { return sim.has_value(); })) {
    throw invalid_argument("--compare: every kind refuses these parameters; " + refusals.front());
  }
  if (!o.json) {
    fmt::print("p = {}, m = {}, v = {} (interleaved), memory limit {} M_B per rank{}\n\n", o.ranks, o.microbatches,
               o.chunks, limit, o.memory_limit > 0 ? "" : " (the default, 2P - 1)");
    fmt::print("{:<13}{:>12}{:>14}{:>17}{:>18}{:>14}{:>10}\n", "kind", "makespan", "bubble rate", "megatron bubble",
               "max peak acts", "peak M_B", "in limit");
  }
  for (std::size_t i = 0; i < sims.size(); ++i) {
    const pp::kind k = pp::all_kinds()[i];
    const std::string& refused = refusals[i];
    const std::optional<pp::simulation>& sim = sims[i];
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

void run_schedule_command(const schedule_cli& o, const given_options& g) {
  check_flags(o, g);
  const pp::costs c = parse_costs(o.costs);
  if (o.compare) {
    print_compare(o, c);
    return;
  }
  if (!o.import.empty()) {
    const pp::schedule s = pp::load_csv(o.import);
    print_one(o, s, costs_for(c, s.stage_rank, s.ranks));
    return;
  }
  const pp::kind k = pp::parse_kind(o.kind);
  pp::check_limits(k, options_of(o, c));  // before for_kind allocates per stage
  const pp::costs kc = for_kind(k, c, o.ranks, o.chunks);
  print_one(o, generate(k, o, kc), kc);
}

}  // namespace

void add_schedule_command(CLI::App& app) {
  auto opts = std::make_shared<schedule_cli>();
  auto g = std::make_shared<given_options>();
  CLI::App* cmd = app.add_subcommand(
      "schedule", "Generate, validate, simulate and draw a model-pipeline schedule (GPipe, 1F1B, zero bubble, ...)");
  g->kind =
      cmd->add_option("-k,--kind", opts->kind, "gpipe, 1f1b, interleaved, zb-h1, zb-h2, zb-v, zb-auto or dualpipe-v")
          ->capture_default_str();
  g->ranks = add_int_option(cmd, "-p,--ranks,--stages", opts->ranks, 1, pp::max_ranks,
                            "Pipeline ranks P (workers); the model has P x V stages. --stages is its old name")
                 ->capture_default_str();
  g->microbatches =
      add_int_option(cmd, "-m,--microbatches", opts->microbatches, 1, pp::max_microbatches, "Micro-batches M")
          ->capture_default_str();
  g->chunks = add_int_option(cmd, "-v,--chunks", opts->chunks, 2, pp::max_chunks,
                             "Stages per rank V, --kind interleaved only (zb-v and dualpipe-v always have 2)")
                  ->capture_default_str();
  g->layers = add_int_option(cmd, "--layers", opts->layers, 0, pp::max_layers,
                             "Model layers; refused unless they split evenly over the P x V stages");
  cmd->add_option("--costs", opts->costs, "Times and sizes of each rank's share of the model: see Costs below")
      ->capture_default_str();
  g->memory_limit =
      add_int_option(cmd, "--memory-limit", opts->memory_limit, 0, pp::max_memory_limit,
                     "zb-auto: activation memory a rank may hold, in the Zero Bubble paper's M_B: one micro-batch's "
                     "activations of the rank's layers, held from F until I except the W's share (wact/act; all "
                     "of it without act), held until W (0: 2P-1; --compare marks the kinds within it)");
  g->svg = cmd->add_option("--svg", opts->svg, "Write the simulated timeline as SVG");
  g->trace = cmd->add_option("--trace", opts->trace, "Write the simulated timeline as Chrome-trace JSON (Perfetto)");
  g->csv = cmd->add_option("--csv", opts->csv, "Write the schedule in torch.distributed.pipelining CSV");
  g->import = cmd->add_option("--import", opts->import,
                              "Validate and simulate a schedule from torch's CSV format (its own ranks, stages and "
                              "micro-batches: not with --kind, --ranks, --microbatches, --chunks, --layers, "
                              "--memory-limit)");
  g->width = add_int_option(cmd, "--width", opts->width, 1, trace::max_text_columns, "Columns of the terminal timeline")
                 ->capture_default_str();
  g->compare = cmd->add_flag("--compare", opts->compare,
                             "One row per kind for the same P, M and costs (not with --kind, --import, --svg, "
                             "--trace, --csv, --width)");
  g->json = cmd->add_flag("--json", opts->json, "Print makespan, bubble rates and peak activations as JSON");
  cmd->footer(fmt::format(
      "Costs: comma-separated key=value items. f, b, w: the times of F, I and W, in [0, {0:g}]; act: activation\n"
      "bytes per micro-batch, held until I, and wact: what it holds from I until W (the part of act W needs, or\n"
      "more when the I keeps more than it frees); fwork, bwork, wwork: what an F, I and W hold in addition while\n"
      "they run (working memory, default 0), all in [0, {1:g}]; comm: the time of every transfer between two ranks,\n"
      "in [0, {0:g}], one value. All but comm take one value, one per rank or one per stage, ':'-separated\n"
      "(f=1:2:1:1). A rank's values are split evenly over the stages it holds (V\n"
      "chunks: 1/V each), for generated and imported schedules alike, so a schedule written with --csv imports with\n"
      "the same makespan; one value per stage is taken as it is.\n"
      "Limits: at most {2} stages (P x V) and {3} stages x micro-batches. An imported CSV holds at most {4} rows\n"
      "(ranks), stage numbers below {2}, micro-batch numbers below {5}, and {6} MiB; a UTF-8 byte-order mark in\n"
      "front is skipped.",
      pp::max_cost_time, pp::max_cost_bytes, pp::max_stages, pp::max_work, pp::max_ranks, pp::max_microbatches,
      pp::max_import_bytes >> 20U));
  cmd->callback([opts, g] { run_schedule_command(*opts, *g); });
}

}  // namespace taskpipe::cli
