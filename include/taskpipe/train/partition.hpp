// taskpipe/train/partition.hpp — cuts a model's layer list into contiguous pipeline stages, balancing time under a
// per-worker memory limit.
//
// Input: per layer (embedding, h.0 .. h.{L-1}, head) its F, B and W time (from FLOPs or a profiling run: any unit),
// its parameter bytes and the activation bytes one micro-batch holds after its F and after its I; the schedule's stage
// -> rank placement and its peak held activations per rank in micro-batches of one stage
// (pp::simulation::peak_activations). A rank's predicted time is the sum of F + B + W over its stages' layers; its
// predicted memory is
//   4 x its parameter bytes (value, gradient, AdamW's two moments) + peak_activations(rank) x the largest
//   per-micro-batch activation bytes among its stages (each layer's held_bytes, the larger of its two states) + the
//   largest working memory (work_bytes) among its layers: what one pass holds for a while above the micro-batches
//   held between passes
// (a bound: the activations of a pass's stage are counted whole from its start; exact bytes for one stage per rank
// where the held count is, an upper bound when a rank holds several chunks). The cut minimises the slowest
// rank's time among the cuts whose every rank fits `memory_per_worker` (0: no limit); ties go to the smaller peak
// memory. Every stage gets at least one layer.
// Throws taskpipe::invalid_argument: more stages than layers, a placement of the wrong size or naming a rank outside
// [0, ranks), a negative cost, or a limit no cut meets (the message gives the best cut's memory per rank and the
// limit). Thread safety: a pure function.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace taskpipe::train {

struct layer_cost {
  double f = 0;
  double b = 0;
  double w = 0;
  double parameter_bytes = 0;
  double activation_bytes = 0;  ///< what one micro-batch's F keeps until its I (pp::stage_cost's activation_bytes)
  double w_bytes = 0;           ///< what it holds after its I until its W (pp::stage_cost's w_bytes)
  double work_bytes = 0;        ///< the most one of its F, I or W holds at once above that, while it runs

  /// The most one micro-batch holds from its F until its W: the larger of the two states.
  [[nodiscard]] double held_bytes() const noexcept { return activation_bytes > w_bytes ? activation_bytes : w_bytes; }
};

struct partition_request {
  std::vector<layer_cost> layers;
  std::vector<int> stage_rank;        ///< stage -> rank (pp::schedule::stage_rank); its size is the stage count
  std::vector<int> peak_activations;  ///< rank -> micro-batches of one stage held at the peak
  double memory_per_worker = 0;       ///< bytes; 0: no limit
};

struct partition {
  std::vector<std::size_t> bounds;             ///< stages + 1 entries: stage s holds layers [bounds[s], bounds[s+1])
  std::vector<double> stage_time;              ///< F + B + W of each stage
  std::vector<double> rank_time;               ///< sum over the rank's stages
  std::vector<double> rank_memory;             ///< predicted peak bytes per rank (see above)
  [[nodiscard]] std::string describe() const;  ///< one line per stage: its layers, time and its rank's memory
};

partition make_partition(const partition_request& request);

}  // namespace taskpipe::train
