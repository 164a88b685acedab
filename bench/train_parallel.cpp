// Parallel training of the GPT-2 model on real workers: one worker against task, dp, pp and hybrid, with the
// pipeline simulator's predictions beside each pipeline measurement (a plain program, not Google Benchmark: one step
// is far longer than its timer).
//
// Configuration: the reference model (d 256, 6 layers or --layers L, 8 heads, T 128, byte vocabulary), a global batch
// of 16 sequences of random bytes, clipping at 1.0 and AdamW. Rows, in one run:
//   one worker (the baseline; serial ops), task with 2 threads (the ops task-parallel on an executor of 2 workers),
//   dp 2, pp 2 under every schedule kind at P = 2 (interleaved with V = 2) for each M of --microbatches (a kind the
//   generator refuses for that M is listed as skipped, with its reason), and hybrid dp 2 x pp 2 (1F1B, the first M
//   of the list that 2 replicas split the batch into): 4 workers, labelled "oversubscribed" when the machine has fewer
//   cores.
// Per row: the median step time over --steps steps after --warmup (forward_backward + clip_grad_norm + AdamW), tokens
// per second, the speed-up over one worker, and the largest worker's peak parameter + gradient + optimizer bytes as a
// fraction of the one worker's.
// Pipeline rows also give the simulator's view, under the cut and the per-layer F, B and W times of `--partition
// profile` (train::measure_layer_costs at the row's micro-batch, with as many workers busy as the row has, summed per
// stage, no communication cost):
//   pred ms  = the simulated makespan of the schedule + the measured median of clip + AdamW of the same row (the
//              simulator models the forward/backward part only; the optimizer part is timed separately), against
//              the measured step: err = |pred - meas| / meas. The JSON also has the forward/backward part alone
//              (fb_ms against sim_fb_ms), and sim_fb_alone_ms: the same simulation under costs profiled on one worker
//              alone (what the prediction used before), run_ms: the stage runtime's own makespan, and
//              sim_measured_ms: the simulation fed with the run's own median slice times, hand_off_ms: one measured
//              hand-off between two ranks (a ping-pong over the in-process transport, half the median round trip) and
//              sim_fb_comm_ms: the profiled simulation with that as every cross-rank transfer's comm (--breakdown
//              prints these too; the prediction itself stays comm-free until an idle measurement decides).
//   act      = per rank of replica 0, the ledger's peak activation bytes against the simulator's count
//              (simulation::peak_activation_bytes): each stage's micro-batch holds what it held at the end of its F
//              until its I, then what it held at the end of its I until its W, and the pass running at a moment adds
//              its working memory (parallel_model::activation_costs, measured per stage and pass kind, so a rank
//              holding V stages of different sizes counts each by its own bytes); the table shows the rank with the
//              largest error.
//   --breakdown adds, per pipeline row, where the forward/backward time goes: the stage runtime's own makespan
//              against the wall time of forward_backward (the rest is outside the schedule), the simulated makespan
//              fed with the run's median F/I/W/B slice times per stage against the one fed with the profiled costs,
//              and per stage the profiled against the measured F, I and W times.
// Usage: train_parallel [--steps N] [--warmup N] [--layers L] [--microbatches 4,8,16] [--json] [--breakdown]
// Smoke run: `build/bench/bench/train_parallel --steps 1 --warmup 0 --microbatches 4 --layers 2`.
#include <cblas.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/adamw.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/pp/generators.hpp"
#include "taskpipe/pp/inproc_transport.hpp"
#include "taskpipe/pp/simulate.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/train/layer_costs.hpp"
#include "taskpipe/train/parallel_model.hpp"
#include "taskpipe/train/parallel_plan.hpp"

namespace nn = taskpipe::nn;
namespace pp = taskpipe::pp;
namespace train = taskpipe::train;

namespace {

constexpr int batch = 16;
constexpr int seq = 128;
constexpr std::uint64_t seed = 1234;
constexpr double clip = 1.0;
constexpr double lr = 3e-4;

const char* const usage =
    "usage: train_parallel [--steps N (>= 1)] [--warmup N (>= 0)] [--layers L (>= 1)] [--microbatches 4,8,16] "
    "[--json] [--breakdown]\n";

struct options {
  int steps = 5;
  int warmup = 1;
  int layers = 6;
  std::vector<int> microbatches{4, 8, 16};
  bool json = false;
  bool breakdown = false;
};

using clock_type = std::chrono::steady_clock;

double seconds(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double relative_error(double predicted, double measured) {
  return measured > 0 ? std::abs(predicted - measured) / measured : 0;
}

struct rank_activations {
  double measured = 0;
  double predicted = 0;
};

struct row {
  std::string label;
  int workers = 1;
  int microbatches = 0;  // 0: not cut
  std::string skipped;   // the generator's reason when the layout was refused
  double step_s = 0;
  double fb_s = 0;
  double tail_s = 0;  // clip + AdamW
  double static_bytes = 0;
  std::optional<double> sim_fb_s;
  std::vector<rank_activations> activations;
  // --breakdown: where the forward/backward time goes (pipeline rows).
  double run_makespan_s = 0;  // median of the stage runtime's own makespan (first action's start to last finish)
  double sim_measured_s = 0;  // the simulated makespan fed with the run's median F/I/W/B slice times per stage
  double sim_alone_s = 0;     // the simulated makespan under the costs profiled on one worker alone
  double comm_s = 0;          // one measured hand-off between two ranks (hand_off_seconds)
  double sim_comm_s = 0;      // the simulated makespan under the profiled costs with comm = comm_s
  pp::costs profiled_costs;
  pp::costs measured_costs;
};

double static_bytes(const nn::memory_ledger& l) {
  return static_cast<double>(l.peak(nn::memory_category::parameters) + l.peak(nn::memory_category::gradients) +
                             l.peak(nn::memory_category::optimizer));
}

struct batch_data {
  std::vector<std::int32_t> tokens;
  std::vector<std::int32_t> targets;
  batch_data() : tokens(static_cast<std::size_t>(batch) * seq), targets(tokens.size()) {
    std::uint32_t s = 7;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      s = s * 1664525U + 1013904223U;
      tokens[i] = static_cast<std::int32_t>(s >> 24U);
      targets[i] = static_cast<std::int32_t>((s >> 16U) & 0xffU);
    }
  }
};

// Runs warm-up + steps of `fb`, `clip_step` and `adamw` and fills the row's medians.
template <class Fb, class Clip, class Step>
void time_steps(row& out, const options& o, Fb&& fb, Clip&& clip_step, Step&& adamw) {
  std::vector<double> step, forward_backward, tail;
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    const clock_type::time_point t0 = clock_type::now();
    fb();
    const clock_type::time_point t1 = clock_type::now();
    clip_step();
    adamw();
    const clock_type::time_point t2 = clock_type::now();
    if (i >= o.warmup) {
      step.push_back(seconds(t0, t2));
      forward_backward.push_back(seconds(t0, t1));
      tail.push_back(seconds(t1, t2));
    }
  }
  out.step_s = median(step);
  out.fb_s = median(forward_backward);
  out.tail_s = median(tail);
}

row one_worker(const nn::gpt2_config& cfg, const options& o, const batch_data& d, int threads) {
  row r;
  r.label = threads == 1 ? "one worker" : "task, " + std::to_string(threads) + " threads";
  r.workers = 1;
  nn::memory_ledger ledger;
  nn::gpt2 model(cfg, seed, &ledger);
  const std::vector<nn::parameter*> params = model.parameters();
  nn::adamw opt(params, {}, &ledger);
  std::unique_ptr<taskpipe::executor> ex;
  if (threads > 1) {
    ex = std::make_unique<taskpipe::executor>(taskpipe::executor_options{.workers = static_cast<std::size_t>(threads)});
  }
  time_steps(
      r, o, [&] { model.forward_backward(d.tokens, d.targets, batch, seq, ex.get()); },
      [&] { nn::clip_grad_norm(params, clip); }, [&] { opt.step(lr); });
  r.static_bytes = static_bytes(ledger);
  return r;
}

// The profiled per-layer costs at `rows` rows per micro-batch with `workers` workers busy, measured once per pair.
const std::vector<train::layer_cost>& profiled(const nn::gpt2_config& cfg, std::size_t rows, int workers) {
  static std::map<std::pair<std::size_t, int>, std::vector<train::layer_cost>> cache;
  auto it = cache.find({rows, workers});
  if (it == cache.end()) {
    it = cache
             .emplace(std::pair{rows, workers},
                      train::measure_layer_costs(cfg, seed, rows, static_cast<std::size_t>(seq),
                                                 train::cost_source::profile, 2, workers))
             .first;
  }
  return it->second;
}

// One hand-off between two ranks as the stage runtime makes it: a payload of `bytes` sent over pp::inproc_transport to
// a thread blocked in recv, which wakes and takes it (the copies in and out of the payload are inside the slices).
// Half the median round trip of a ping-pong.
double hand_off_seconds(std::size_t bytes) {
  constexpr int rounds = 41;
  pp::inproc_transport link(2);
  std::thread echo([&link] {
    for (int i = 0; i < rounds; ++i) {
      pp::payload p = link.recv(1, 0, {.stage = 1, .microbatch = i, .direction = pp::flow::activation});
      link.send(1, 0, {.stage = 0, .microbatch = i, .direction = pp::flow::gradient}, std::move(p));
    }
  });
  pp::payload p(bytes, std::byte{1});
  std::vector<double> trips;
  for (int i = 0; i < rounds; ++i) {
    const clock_type::time_point t0 = clock_type::now();
    link.send(0, 1, {.stage = 1, .microbatch = i, .direction = pp::flow::activation}, std::move(p));
    p = link.recv(0, 1, {.stage = 0, .microbatch = i, .direction = pp::flow::gradient});
    trips.push_back(seconds(t0, clock_type::now()));
  }
  echo.join();
  return median(trips) / 2;
}

// Per stage, the median F, I, W and B slice times of the recorded runs, as the simulator's costs. A stage that only
// ran fused B actions gets b + w = the B median, split in the profiled ratio (only their sum matters then).
pp::costs measured_costs(const std::vector<std::vector<pp::timed_action>>& runs, const pp::costs& profiled) {
  pp::costs out;
  for (std::size_t s = 0; s < profiled.per_stage.size(); ++s) {
    std::vector<double> by_kind[4];
    for (const auto& run : runs) {
      for (const pp::timed_action& a : run) {
        if (a.what.stage == static_cast<int>(s)) {
          by_kind[static_cast<int>(a.what.kind)].push_back(a.finish - a.start);
        }
      }
    }
    const pp::stage_cost& p = profiled.per_stage[s];
    pp::stage_cost c = p;
    if (!by_kind[0].empty()) {
      c.f = median(by_kind[0]);
    }
    if (!by_kind[1].empty() && !by_kind[2].empty()) {
      c.b = median(by_kind[1]);
      c.w = median(by_kind[2]);
    } else if (!by_kind[3].empty()) {
      const double full = median(by_kind[3]);
      c.b = full * p.b / (p.b + p.w);
      c.w = full - c.b;
    }
    out.per_stage.push_back(c);
  }
  return out;
}

row parallel(const nn::gpt2_config& cfg, const options& o, const batch_data& d, train::strategy kind, int replicas,
             int ranks, pp::kind schedule, int microbatches, std::string label) {
  row r;
  r.label = std::move(label);
  r.workers = replicas * ranks;
  r.microbatches = microbatches;
  train::plan_request req;
  req.config = cfg;
  req.seed = seed;
  req.batch = batch;
  req.seq = seq;
  req.kind = kind;
  req.replicas = replicas;
  req.ranks = ranks;
  req.schedule = schedule;
  req.microbatches = microbatches;
  req.costs = kind == train::strategy::data ? train::cost_source::flops : train::cost_source::profile;
  train::parallel_plan plan;
  try {
    plan = train::make_plan(req);
  } catch (const taskpipe::invalid_argument& e) {
    r.skipped = e.what();
    return r;
  }
  train::parallel_model pm(cfg, seed, plan.schedule, plan.cut.bounds, plan.replicas);
  std::vector<std::vector<pp::timed_action>> runs;
  std::vector<double> run_makespans;
  time_steps(
      r, o,
      [&] {
        pm.forward_backward(d.tokens, d.targets, batch, seq);
        runs.push_back(pm.last_run(0).result.actions);
        run_makespans.push_back(pm.last_run(0).result.makespan_s);
      },
      [&] { pm.clip_grad_norm(clip); }, [&] { pm.step(lr); });
  runs.erase(runs.begin(), runs.begin() + o.warmup);
  run_makespans.erase(run_makespans.begin(), run_makespans.begin() + o.warmup);
  for (int rep = 0; rep < pm.replicas(); ++rep) {
    for (int rank = 0; rank < pm.ranks(); ++rank) {
      r.static_bytes = std::max(r.static_bytes, static_bytes(pm.ledger(rep, rank)));
    }
  }
  if (kind == train::strategy::pipeline) {
    r.profiled_costs = train::stage_costs(profiled(cfg, plan.rows_per_microbatch, r.workers), plan.cut.bounds);
    r.sim_fb_s = pp::simulate(plan.schedule, r.profiled_costs).makespan();
    pp::costs with_comm = r.profiled_costs;
    with_comm.comm =
        hand_off_seconds(plan.rows_per_microbatch * seq * static_cast<std::size_t>(cfg.embd) * sizeof(float));
    r.comm_s = with_comm.comm;
    r.sim_comm_s = pp::simulate(plan.schedule, with_comm).makespan();
    r.sim_alone_s =
        pp::simulate(plan.schedule, train::stage_costs(profiled(cfg, plan.rows_per_microbatch, 1), plan.cut.bounds))
            .makespan();
    r.measured_costs = measured_costs(runs, r.profiled_costs);
    r.run_makespan_s = median(run_makespans);
    r.sim_measured_s = pp::simulate(plan.schedule, r.measured_costs).makespan();
    const pp::simulation held = pp::simulate(plan.schedule, pm.activation_costs(r.profiled_costs));
    for (int rank = 0; rank < pm.ranks(); ++rank) {
      r.activations.push_back(
          {.measured = static_cast<double>(pm.ledger(0, rank).peak(nn::memory_category::activations)),
           .predicted = held.peak_activation_bytes(rank)});
    }
  }
  return r;
}

[[noreturn]] void refuse(const std::string& why) {
  std::fprintf(stderr, "train_parallel: %s\n%s", why.c_str(), usage);
  std::exit(2);
}

int parse_int(const std::string& flag, const std::string& text, int least) {
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < least) {
    refuse(flag + " '" + text + "' is not an integer >= " + std::to_string(least));
  }
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        refuse(a + " needs a value");
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::printf("%s", usage);
      std::exit(0);
    } else if (a == "--steps") {
      o.steps = parse_int(a, value(), 1);
    } else if (a == "--warmup") {
      o.warmup = parse_int(a, value(), 0);
    } else if (a == "--layers") {
      o.layers = parse_int(a, value(), 1);
    } else if (a == "--microbatches") {
      o.microbatches.clear();
      const std::string list = value();
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        o.microbatches.push_back(parse_int(a, list.substr(at, comma - at), 1));
        at = comma + 1;
      }
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--breakdown") {
      o.breakdown = true;
    } else {
      refuse("unknown option '" + a + "'");
    }
  }
  return o;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

// The rank whose activation prediction is furthest off (-1 when none).
int worst_rank(const row& r) {
  int worst = -1;
  double err = -1;
  for (std::size_t k = 0; k < r.activations.size(); ++k) {
    const double e = relative_error(r.activations[k].predicted, r.activations[k].measured);
    if (e > err) {
      err = e;
      worst = static_cast<int>(k);
    }
  }
  return worst;
}

void print_json(const nn::gpt2_config& cfg, const std::vector<row>& rows, unsigned cores) {
  const row& base = rows.front();
  std::printf(
      "{\"config\": {\"embd\": %d, \"layers\": %d, \"heads\": %d, \"seq\": %d, \"batch\": %d, \"cores\": %u},\n",
      cfg.embd, cfg.layers, cfg.heads, seq, batch, cores);
  std::printf(" \"rows\": [");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const row& r = rows[i];
    std::printf("%s\n  {\"label\": %s, \"workers\": %d, \"microbatches\": %d", i ? "," : "",
                json_string(r.label).c_str(), r.workers, r.microbatches);
    if (!r.skipped.empty()) {
      std::printf(", \"skipped\": %s}", json_string(r.skipped).c_str());
      continue;
    }
    std::printf(
        ", \"step_ms\": %.3f, \"fb_ms\": %.3f, \"clip_adamw_ms\": %.3f, \"tokens_per_s\": %.1f, \"speedup\": %.4f",
        1e3 * r.step_s, 1e3 * r.fb_s, 1e3 * r.tail_s, batch * seq / r.step_s, base.step_s / r.step_s);
    std::printf(", \"static_bytes\": %.0f, \"static_fraction\": %.4f", r.static_bytes,
                r.static_bytes / base.static_bytes);
    if (r.sim_fb_s) {
      const double pred = *r.sim_fb_s + r.tail_s;
      std::printf(", \"sim_fb_ms\": %.3f, \"fb_error\": %.4f, \"pred_step_ms\": %.3f, \"step_error\": %.4f",
                  1e3 * *r.sim_fb_s, relative_error(*r.sim_fb_s, r.fb_s), 1e3 * pred, relative_error(pred, r.step_s));
      std::printf(", \"sim_fb_alone_ms\": %.3f, \"run_ms\": %.3f, \"sim_measured_ms\": %.3f", 1e3 * r.sim_alone_s,
                  1e3 * r.run_makespan_s, 1e3 * r.sim_measured_s);
      std::printf(", \"hand_off_ms\": %.4f, \"sim_fb_comm_ms\": %.3f", 1e3 * r.comm_s, 1e3 * r.sim_comm_s);
      std::printf(", \"activations\": [");
      for (std::size_t k = 0; k < r.activations.size(); ++k) {
        const rank_activations& a = r.activations[k];
        std::printf("%s{\"rank\": %zu, \"measured_bytes\": %.0f, \"predicted_bytes\": %.0f, \"error\": %.4f}",
                    k ? ", " : "", k, a.measured, a.predicted, relative_error(a.predicted, a.measured));
      }
      std::printf("]");
    }
    std::printf("}");
  }
  std::printf("\n ]}\n");
}

void print_table(const nn::gpt2_config& cfg, const std::vector<row>& rows, const options& o, unsigned cores) {
  const row& base = rows.front();
  std::printf(
      "GPT-2 d=%d L=%d H=%d T=%d, global batch %d, %zu parameters, %u cores; median of %d step(s) after %d "
      "warm-up\n",
      cfg.embd, cfg.layers, cfg.heads, seq, batch, cfg.parameter_count(), cores, o.steps, o.warmup);
  std::printf(
      "pred = simulated F/B/W makespan (costs profiled with the row's workers busy) + measured clip+AdamW; act = "
      "worst rank's peak activations, measured vs the simulator's count (held between passes + the running pass's "
      "working memory)\n\n");
  std::printf("%-44s %3s %9s %8s %6s %9s %6s %6s %9s %9s %6s\n", "layout", "M", "step ms", "tok/s", "speed", "pred ms",
              "err", "mem", "act MB", "pred MB", "err");
  for (const row& r : rows) {
    const std::string m = r.microbatches > 0 ? std::to_string(r.microbatches) : "-";
    if (!r.skipped.empty()) {
      std::printf("%-44s %3s skipped: %s\n", r.label.c_str(), m.c_str(), r.skipped.c_str());
      continue;
    }
    std::printf("%-44s %3s %9.1f %8.0f %5.2fx", r.label.c_str(), m.c_str(), 1e3 * r.step_s, batch * seq / r.step_s,
                base.step_s / r.step_s);
    if (r.sim_fb_s) {
      const double pred = *r.sim_fb_s + r.tail_s;
      std::printf(" %9.1f %5.1f%%", 1e3 * pred, 100 * relative_error(pred, r.step_s));
    } else {
      std::printf(" %9s %6s", "-", "-");
    }
    std::printf(" %5.2f", r.static_bytes / base.static_bytes);
    const int w = worst_rank(r);
    if (w >= 0) {
      const rank_activations& a = r.activations[static_cast<std::size_t>(w)];
      std::printf(" %9.2f %9.2f %5.1f%%", a.measured / 1e6, a.predicted / 1e6,
                  100 * relative_error(a.predicted, a.measured));
    } else {
      std::printf(" %9s %9s %6s", "-", "-", "-");
    }
    std::printf("\n");
    if (o.breakdown && r.sim_fb_s) {
      std::printf(
          "    fb %.1f ms = run %.1f + outside %.1f; sim(profiled alone) %.1f, sim(profiled, %d busy) %.1f, "
          "sim(measured slices) %.1f, hand-off %.1f\n",
          1e3 * r.fb_s, 1e3 * r.run_makespan_s, 1e3 * (r.fb_s - r.run_makespan_s), 1e3 * r.sim_alone_s, r.workers,
          1e3 * *r.sim_fb_s, 1e3 * r.sim_measured_s, 1e3 * (r.run_makespan_s - r.sim_measured_s));
      std::printf("    hand-off %.3f ms a message: sim(profiled, busy, + hand-offs) %.1f ms\n", 1e3 * r.comm_s,
                  1e3 * r.sim_comm_s);
      for (std::size_t s = 0; s < r.profiled_costs.per_stage.size(); ++s) {
        const pp::stage_cost& p = r.profiled_costs.per_stage[s];
        const pp::stage_cost& q = r.measured_costs.per_stage[s];
        std::printf("    stage %zu  F %.2f/%.2f  I %.2f/%.2f  W %.2f/%.2f ms (profiled/measured)\n", s, 1e3 * p.f,
                    1e3 * q.f, 1e3 * p.b, 1e3 * q.b, 1e3 * p.w, 1e3 * q.w);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  openblas_set_num_threads(1);
  try {
    nn::gpt2_config cfg = nn::preset("small");
    cfg.layers = o.layers;
    cfg.validate();
    const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    const batch_data d;
    std::vector<row> rows;
    rows.push_back(one_worker(cfg, o, d, 1));
    rows.push_back(one_worker(cfg, o, d, 2));
    rows.push_back(parallel(cfg, o, d, train::strategy::data, 2, 1, pp::kind::gpipe, 1, "dp 2"));
    for (const int m : o.microbatches) {
      for (const pp::kind k : pp::all_kinds()) {
        std::string label = "pp 2 " + std::string(pp::kind_name(k));
        if (k == pp::kind::interleaved) {
          label += " (V = 2)";
        }
        rows.push_back(parallel(cfg, o, d, train::strategy::pipeline, 1, 2, k, m, label));
      }
    }
    // The first M of the list that 2 replicas can split the batch into (else the first, shown as skipped).
    const auto splits =
        std::find_if(o.microbatches.begin(), o.microbatches.end(), [](int m) { return batch % (2 * m) == 0; });
    const int hybrid_m = splits != o.microbatches.end() ? *splits : o.microbatches.front();
    rows.push_back(parallel(cfg, o, d, train::strategy::hybrid, 2, 2, pp::kind::one_f_one_b, hybrid_m,
                            std::string("hybrid dp 2 x pp 2 1f1b") + (cores < 4 ? " (oversubscribed)" : "")));
    if (o.json) {
      print_json(cfg, rows, cores);
    } else {
      print_table(cfg, rows, o, cores);
    }
  } catch (const taskpipe::error& e) {
    std::fprintf(stderr, "train_parallel: %s\n", e.what());
    return 2;
  }
  return 0;
}
