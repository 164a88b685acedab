// taskpipe/train/parallel_plan.hpp — the layout of a parallel training run, checked before any training work: the
// strategy, D replicas x P pipeline ranks, the schedule, and the partitioner's cut of the layers into its stages.
//
// Strategies: task (one worker; the ops may run task-parallel on an executor), data (D replicas of the whole model,
// one stage each), pipeline (one replica cut into the schedule's stages over P ranks), hybrid (D replicas, each a
// P-rank pipeline). Worker (replica d, rank r) holds the stages the schedule places on rank r and trains rows
// [d·B/D, (d+1)·B/D) of each global batch of B rows, cut into M micro-batches.
// `make_plan` refuses, with taskpipe::invalid_argument and one line naming the rule and the values:
//   D or P outside [1, 64]; a strategy given D or P it does not use (task: D = P = 1, data: P = 1, pipeline: D = 1);
//   more stages (P, or P x chunks for interleaved, 2P for zb-v and dualpipe-v) than the model's layers + 2;
//   a batch that is not a multiple of D x M; whatever the schedule's generator refuses for P and M (e.g. 1f1b with
//   M < P); and, from make_partition, a memory per worker that no cut meets.
// Defaults: M = 1 for task and data, P for pipeline and hybrid (2P for dualpipe-v); chunks 2 (interleaved only).
// Under `--partition profile` the layers are timed with D x P workers busy (train::measure_layer_costs' workers), at
// most one per hardware thread.
// Memory per worker is predicted as partition.hpp says, with the schedule's peak held activations per rank
// (pp::simulate under uniform costs, counted until W: the bound when W needs what F kept).
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/pp/generators.hpp"
#include "taskpipe/pp/schedule.hpp"
#include "taskpipe/train/layer_costs.hpp"
#include "taskpipe/train/partition.hpp"

namespace taskpipe::train {

enum class strategy { task, data, pipeline, hybrid };

/// "task", "dp", "pp" or "hybrid" (the CLI's names).
std::string_view to_string(strategy s) noexcept;
/// The inverse; throws taskpipe::invalid_argument listing the names.
strategy parse_strategy(std::string_view name);

inline constexpr int max_replicas = 64;
inline constexpr int max_ranks = 64;

struct plan_request {
  nn::gpt2_config config;
  std::uint64_t seed = 0;  ///< the model's init seed (the probe layers of the cost measurement use it)
  int batch = 8;           ///< B, global rows per step
  int seq = 128;
  strategy kind = strategy::task;
  int replicas = 1;  ///< D
  int ranks = 1;     ///< P
  pp::kind schedule = pp::kind::one_f_one_b;
  int microbatches = 0;  ///< M per replica; 0: the default above
  int chunks = 2;        ///< interleaved only
  cost_source costs = cost_source::flops;
  double memory_per_worker = 0;  ///< bytes; 0: no limit
};

struct parallel_plan {
  strategy kind = strategy::task;
  int replicas = 1;
  pp::schedule schedule;  ///< P ranks; gpipe over one rank for task and data
  std::size_t rows_per_microbatch = 0;
  cost_source costs = cost_source::flops;
  partition cut;
};

parallel_plan make_plan(const plan_request& request);

}  // namespace taskpipe::train
