// taskpipe/pp/generators.hpp — GPipe, 1F1B, interleaved 1F1B and the zero-bubble family, for p ranks and m
// micro-batches.
//
// Contract: `make_schedule` returns a schedule that `pp::validate` accepts. Parameters a kind cannot take are refused
// with `taskpipe::invalid_argument` naming the value and the rule:
//   all kinds: ranks >= 1, microbatches >= 1;
//   1f1b, zb-h1, zb-h2, zb-v, zb-auto: microbatches >= ranks (the steady state needs p micro-batches in flight);
//   interleaved: chunks >= 2 and microbatches a multiple of ranks (Megatron's rule);
//   layers (when given) a multiple of ranks x chunks, so every chunk holds the same number of layers.
// GPipe, 1F1B and interleaved use full backwards (B); the zero-bubble kinds split them into I and W and place the W
// with a list scheduler driven by `planning_costs` (the ZB paper's heuristic). Memory, in activations of one stage
// held until I (simulation::peak_activations; W keeps only a small part, see costs.hpp) and until W:
//   zb-h1: p - r until I on rank r, exactly 1F1B's (the paper's claim), at most 2p - r - 1 until W;
//   zb-h2: 2(p - r) - 1 until I, 2p - 1 until W;
//   zb-v:  two chunks per rank in a V, 2p chunk activations (1F1B's p whole-stage ones);
//   zb-auto: `memory_limit` (2p - 1 when 0) until W, the best of several limit shapes and W policies by simulation.
// zb-h1 reaches the closed form idle (p-1)(F+B-W) when W <= F + B. zb-h2 is the paper's parallelogram: its bubble
// (simulation::bubble, against the longest rank's own time, since ZB-H2 does not synchronise optimizer steps) is
// max(0, (p-1)(F+B-2W)) whenever m >= 2p - 1; with p <= m < 2p - 1 (and W <= min(F, B)) it is that plus one W per
// micro-batch short of 2p - 1, i.e. zb-h1's at m = p.
// Thread safety: pure functions.
#pragma once

#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/schedule.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace taskpipe::pp {

enum class kind { gpipe, one_f_one_b, interleaved, zb_h1, zb_h2, zb_v, zb_auto };

/// All kinds, in the order the CLI's `--compare` prints them.
std::span<const kind> all_kinds() noexcept;
/// "gpipe", "1f1b", "interleaved", "zb-h1", "zb-h2", "zb-v", "zb-auto".
std::string_view kind_name(kind k) noexcept;
/// The inverse of `kind_name` (also accepts `_` for `-`); throws `taskpipe::invalid_argument` listing the names.
kind parse_kind(std::string_view name);

struct schedule_options {
  int ranks = 4;         ///< p: pipeline ranks (workers); the model has ranks x chunks stages
  int microbatches = 8;  ///< m
  int chunks = 2;        ///< v: stages per rank, interleaved only (zb-v always uses 2)
  int layers = 0;        ///< when > 0, refused unless a multiple of the stage count
  /// Times the zero-bubble list scheduler plans with; uniform f = b = w = 1 when absent.
  std::optional<costs> planning_costs{};
  /// zb-auto: most activations (micro-batches of one stage) a rank may hold until their W; 2p - 1 when 0.
  int memory_limit = 0;
};

schedule make_schedule(kind k, const schedule_options& options);

}  // namespace taskpipe::pp
