// taskpipe/verdict/model_candidates.hpp — the model half of the verdict, step one: which layouts of a GPT-2 training
// step to judge on W workers.
//
// A `model_workload` is the model (nn::gpt2_config and init seed), the global batch (rows of `seq` tokens), the
// worker count W and the memory each worker may hold. Its candidates, each on exactly W workers:
//   task    one worker whose ops run task-parallel on W threads;
//   dp      W replicas of the whole model, one micro-batch each;
//   pp      one pipeline of W ranks under every schedule kind (pp::all_kinds()), M in {P, 2P, 4P, 8P} micro-batches,
//           V = 2 stages per rank where the kind takes chunks (interleaved; zb-v and dualpipe-v always hold 2);
//   hybrid  D replicas of a P-rank pipeline for every D x P = W with D, P >= 2, under the same kinds and M.
// A layout the model or the batch cannot take is left out, not listed: more stages than the model's layers + 2, a
// batch that is not a multiple of D x M, or M that the kind refuses (1f1b and the zero-bubble kinds need M >= P,
// dualpipe-v M >= 2P, interleaved M a multiple of P). The one-worker baseline (task on one thread) is not a
// candidate: the verdict measures it beside them.
// Throws taskpipe::invalid_argument (naming the value and the accepted range) for a bad config, batch or seq, W
// outside [1, 64], or a negative memory limit. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/pp/generators.hpp"
#include "taskpipe/train/parallel_plan.hpp"

namespace taskpipe::verdict {

struct model_workload {
  std::string name = "model";
  nn::gpt2_config config{};
  std::uint64_t seed = 0;
  int batch = 8;  ///< global rows per step
  int seq = 64;   ///< tokens per row, <= config.context
  int workers = 2;
  double memory_per_worker = 0;  ///< bytes; 0: no limit

  /// Throws taskpipe::invalid_argument naming the first bad field.
  void validate() const;
};

inline constexpr int max_model_workers = 64;

struct model_candidate {
  train::strategy kind = train::strategy::task;
  int replicas = 1;  ///< D
  int ranks = 1;     ///< P
  pp::kind schedule = pp::kind::gpipe;
  int microbatches = 1;  ///< M per replica
  int chunks = 1;        ///< stages per rank (V)
  int threads = 1;       ///< task only: intra-op threads

  /// "task, 2 threads", "dp x2", "pp x2 1f1b M=4", "pp x2 interleaved M=4 V=2", "hybrid 2x2 zb-h1 M=2".
  [[nodiscard]] std::string label() const;
  /// Workers the candidate occupies (threads for task, D x P otherwise).
  [[nodiscard]] int workers() const noexcept;
  friend bool operator==(const model_candidate&, const model_candidate&) = default;
};

/// The one-worker baseline: task on one thread.
model_candidate baseline_candidate();

/// Every candidate of the workload, in the order task, dp, pp (by kind, then M), hybrid.
std::vector<model_candidate> model_candidates(const model_workload& w);

}  // namespace taskpipe::verdict
