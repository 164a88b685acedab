// taskpipe/pp/schedule.hpp — the schedule IR: which stages live on which rank, and each rank's ordered action list.
//
// Contract: a plain value. Building one does not check it; `pp::validate` does (completeness, dependencies, and a
// dry run that proves it cannot deadlock). Placement helpers throw `taskpipe::invalid_argument` on a rank or chunk
// count below 1. Thread safety: as a value type.
#pragma once

#include "taskpipe/error.hpp"

#include "taskpipe/pp/action.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace taskpipe::pp {

struct schedule {
  std::string name;  ///< the generator's kind ("1f1b", ...) or "imported"
  int ranks = 0;     ///< workers, one thread or process each
  int stages = 0;    ///< model stages (chunks): ranks x chunks per rank
  int microbatches = 0;
  std::vector<int> stage_rank;              ///< stage -> the rank that holds it
  std::vector<std::vector<action>> orders;  ///< rank -> its actions, in execution order

  /// The rank holding `stage`; throws `taskpipe::invalid_argument` when the stage is out of range.
  int rank_of(int stage) const;
  std::size_t action_count() const noexcept;
};

/// Stage s on rank s: one stage per rank.
std::vector<int> linear_placement(int ranks);
/// Stage s on rank s % ranks: `chunks` stages per rank, looping over the ranks (interleaved 1F1B).
std::vector<int> looped_placement(int ranks, int chunks);
/// Two stages per rank in a V: stage s < p on rank s, stage s >= p on rank 2p-1-s (ZB-V), so rank 0 holds the
/// first and the last stage.
std::vector<int> v_placement(int ranks);

}  // namespace taskpipe::pp
