// taskpipe/pp/generators.hpp — GPipe, 1F1B, interleaved 1F1B and the zero-bubble family, for p ranks and m
// micro-batches.
//
// Contract: `make_schedule` returns a schedule that `pp::validate` accepts. Parameters a kind cannot take are refused
// with `taskpipe::invalid_argument` naming the value and the rule:
//   all kinds: ranks >= 1, microbatches >= 1;
//   1f1b, zb-h1, zb-h2, zb-v, zb-auto: microbatches >= ranks (the steady state needs p micro-batches in flight);
//   dualpipe-v: microbatches >= 2 x ranks (as torch requires);
//   zb-auto: memory_limit >= 0 and at least what some candidate needs, else refused naming the least it found;
//   interleaved: chunks >= 2 and microbatches a multiple of ranks (Megatron's rule);
//   layers (when given) a multiple of ranks x chunks, so every chunk holds the same number of layers.
// GPipe, 1F1B, interleaved and dualpipe-v use full backwards (B); the zero-bubble kinds split them into I and W.
// The orders are the Zero Bubble paper's (Qi et al., ICLR 2024), so its bubble rates come out under its costs:
//   zb-h1: the paper's hand-built order: 1F1B's warm-up, rank r starts its W's after r backwards. Peak memory
//          exactly 1F1B's p - r activations until I on rank r and at most p until W; idle (p-1)(F+B-W) when
//          W <= F + B and comm = 0.
//   zb-h2: the paper's parallelogram (2(p - r) - 1 until I, 2p - 1 until W), W's placed by a list scheduler driven by
//          `planning_costs`; its bubble (simulation::bubble, against the longest rank's own time, since ZB-H2 does
//          not synchronise optimizer steps) is max(0, (p-1)(F+B-2W)) whenever m >= 2p - 1; with p <= m < 2p - 1 (and
//          W <= min(F, B)) it is that plus one W per micro-batch short of 2p - 1, i.e. zb-h1's at m = p.
//   zb-v:  two chunks per rank in a V (v_placement), the paper's ZB-V greedy under `planning_costs` (per chunk) at
//          1F1B's memory, p M_B per rank; zero bubble when F = B = W.
//   zb-auto: the paper's automatic scheduling heuristic (all eight variants of its Section 3.1), with zb-h1, zb-h2,
//          1F1B and a list scheduler as further candidates, the best whose peak_memory (the paper's M_B, see
//          simulate.hpp) stays within `memory_limit` on every rank (2p - 1 when 0), under `sync`.
//   dualpipe-v: DeepSeek's DualPipe in V form as torch's ScheduleDualPipeV orders it (an overlapped pair is its F
//          then its B). With a chunk's F and I equally long every rank idles (p - 1)(F + B - min(B, W)) for any m,
//          (p - 1)F at F = B = W.
// No generator stalls: every planner's result is validated, and a hand-built order stands in where one fails.
// Thread safety: pure functions.
#pragma once

#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/schedule.hpp"
#include "taskpipe/pp/simulate.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace taskpipe::pp {

enum class kind { gpipe, one_f_one_b, interleaved, zb_h1, zb_h2, zb_v, zb_auto, dualpipe_v };

/// All kinds, in the order the CLI's `--compare` prints them.
std::span<const kind> all_kinds() noexcept;
/// "gpipe", "1f1b", "interleaved", "zb-h1", "zb-h2", "zb-v", "zb-auto", "dualpipe-v".
std::string_view kind_name(kind k) noexcept;
/// The inverse of `kind_name` (also accepts `_` for `-`); throws `taskpipe::invalid_argument` listing the names.
kind parse_kind(std::string_view name);

struct schedule_options {
  int ranks = 4;         ///< p: pipeline ranks (workers); the model has ranks x chunks stages
  int microbatches = 8;  ///< m
  int chunks = 2;        ///< v: stages per rank, interleaved only (zb-v and dualpipe-v always use 2)
  int layers = 0;        ///< when > 0, refused unless a multiple of the stage count
  /// Times (and activation sizes) the zero-bubble planners plan with; uniform f = b = w = 1 when absent.
  std::optional<costs> planning_costs{};
  /// zb-auto: the most activation memory a rank may hold, in the paper's M_B (simulation::peak_memory); 2p - 1 when 0.
  int memory_limit = 0;
  /// zb-auto: the iteration it minimises: bypassed (the paper's post-update validation, simulation::cost) or
  /// synchronised optimizer steps (simulation::makespan).
  optimizer_sync sync = optimizer_sync::bypassed;
};

schedule make_schedule(kind k, const schedule_options& options);

}  // namespace taskpipe::pp
