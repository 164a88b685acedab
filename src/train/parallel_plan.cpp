#include "taskpipe/train/parallel_plan.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include "taskpipe/error.hpp"
#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/simulate.hpp"

namespace taskpipe::train {
namespace {

int stages_per_rank(pp::kind k, int chunks) {
  switch (k) {
    case pp::kind::interleaved:
      return chunks;
    case pp::kind::zb_v:
    case pp::kind::dualpipe_v:
      return 2;
    default:
      return 1;
  }
}

void check_layout(const plan_request& r) {
  if (r.replicas < 1 || r.replicas > max_replicas) {
    throw invalid_argument("data-parallel replicas " + std::to_string(r.replicas) + " are out of range: accepted [1, " +
                           std::to_string(max_replicas) + "]");
  }
  if (r.ranks < 1 || r.ranks > max_ranks) {
    throw invalid_argument("pipeline ranks " + std::to_string(r.ranks) + " are out of range: accepted [1, " +
                           std::to_string(max_ranks) + "]");
  }
  const bool uses_replicas = r.kind == strategy::data || r.kind == strategy::hybrid;
  const bool uses_ranks = r.kind == strategy::pipeline || r.kind == strategy::hybrid;
  if (!uses_replicas && r.replicas != 1) {
    throw invalid_argument("strategy " + std::string(to_string(r.kind)) + " has one replica, not " +
                           std::to_string(r.replicas) + ": use dp or hybrid for data parallelism");
  }
  if (!uses_ranks && r.ranks != 1) {
    throw invalid_argument("strategy " + std::string(to_string(r.kind)) + " has one pipeline rank, not " +
                           std::to_string(r.ranks) + ": use pp or hybrid for pipeline parallelism");
  }
  if (r.batch < 1 || r.seq < 1) {
    throw invalid_argument("batch " + std::to_string(r.batch) + " and seq " + std::to_string(r.seq) +
                           ": both must be >= 1");
  }
}

int default_microbatches(const plan_request& r) {
  if (r.kind == strategy::task || r.kind == strategy::data) {
    return 1;
  }
  return r.schedule == pp::kind::dualpipe_v ? 2 * r.ranks : r.ranks;
}

}  // namespace

std::string_view to_string(strategy s) noexcept {
  switch (s) {
    case strategy::task:
      return "task";
    case strategy::data:
      return "dp";
    case strategy::pipeline:
      return "pp";
    case strategy::hybrid:
      return "hybrid";
  }
  return "?";
}

strategy parse_strategy(std::string_view name) {
  for (strategy s : {strategy::task, strategy::data, strategy::pipeline, strategy::hybrid}) {
    if (name == to_string(s)) {
      return s;
    }
  }
  throw invalid_argument("strategy '" + std::string(name) + "' is unknown: accepted task, dp, pp, hybrid");
}

parallel_plan make_plan(const plan_request& r) {
  r.config.validate();
  check_layout(r);
  const bool pipelined = r.kind == strategy::pipeline || r.kind == strategy::hybrid;
  const pp::kind k = pipelined ? r.schedule : pp::kind::gpipe;
  const int layers = r.config.layers + 2;
  const int stages = r.ranks * stages_per_rank(k, r.chunks);
  if (stages > layers) {
    throw invalid_argument(std::to_string(r.ranks) + " pipeline ranks of " + std::string(pp::kind_name(k)) + " make " +
                           std::to_string(stages) + " stages, more than the model's " + std::to_string(layers) +
                           " layers (embedding, " + std::to_string(r.config.layers) +
                           " blocks, head): each stage needs at least one layer");
  }
  const int m = r.microbatches > 0 ? r.microbatches : default_microbatches(r);
  if (r.batch % (r.replicas * m) != 0) {
    throw invalid_argument("a batch of " + std::to_string(r.batch) + " rows does not split into " +
                           std::to_string(r.replicas) + " replicas x " + std::to_string(m) +
                           " micro-batches: the batch must be a multiple of " + std::to_string(r.replicas * m));
  }
  pp::schedule_options o;
  o.ranks = r.ranks;
  o.microbatches = m;
  o.chunks = r.chunks;
  parallel_plan plan;
  plan.kind = r.kind;
  plan.replicas = r.replicas;
  try {
    plan.schedule = pp::make_schedule(k, o);
  } catch (const invalid_argument& e) {
    throw invalid_argument("schedule " + std::string(pp::kind_name(k)) + " with " + std::to_string(r.ranks) +
                           " ranks and " + std::to_string(m) + " micro-batches: " + e.what());
  }
  plan.rows_per_microbatch = static_cast<std::size_t>(r.batch / (r.replicas * m));
  plan.costs = r.costs;

  partition_request pr;
  // Profiled with as many workers busy as the run has (layer_costs.hpp), so the stage times are the run's; at most
  // one per hardware thread (more would only add threads that wait for a core).
  const int busy = std::min(r.replicas * r.ranks, static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
  pr.layers = measure_layer_costs(r.config, r.seed, plan.rows_per_microbatch, static_cast<std::size_t>(r.seq), r.costs,
                                  2, busy);
  pr.stage_rank = plan.schedule.stage_rank;
  pr.memory_per_worker = r.memory_per_worker;
  const pp::simulation sim = pp::simulate(plan.schedule, pp::costs::uniform({}));
  for (int rank = 0; rank < plan.schedule.ranks; ++rank) {
    pr.peak_activations.push_back(sim.peak_activations_until_w(rank));
  }
  plan.cut = make_partition(pr);
  return plan;
}

}  // namespace taskpipe::train
