// taskpipe/mpi/worker_model.hpp — one MPI rank's share of the GPT-2 model: the stages that pipeline rank r of
// replica d holds (job.hpp's layout), and the collectives that make D x P such ranks train exactly as
// train::parallel_model's threads do.
//
// It builds only its own stages' layers (nn::make_layer, the same init as every other layout) and runs its own action
// list of the schedule (pp::run_rank) over an mpi_transport, its receives posted ahead in the schedule's order.
// Gradients: as soon as a layer's W of the step's last micro-batch has run, that layer's gradients (one bucket) start
// an MPI_Iallgather across the replicas' copies of the stage, overlapped with the rest of the backward; after the
// schedule they are summed in replica order (0 + 1 + ...: the threads' order, so the sums are bit-identical). Then the
// tied embedding's two gradients (the embedding's, on the first stage, and the head's copy, on the last) are summed
// between those two ranks; where one rank holds both (one pipeline rank, or a V-shaped schedule), it sums them before
// the replicas reduce wte's bucket, so wte's gradient crosses to the other replicas once (train::parallel_model sums
// in the same order). The gradient norm is the sum of the ranks' squares (wte once) over the pipeline; clipping
// and AdamW then run on each rank for its own parameters.
// Checkpoints: `gather` brings the whole model's weights and AdamW moments to world rank 0 (from replica 0's ranks);
// `load` gives each rank its own parameters (and moments) from a whole-model checkpoint read by every rank.
// Errors carry the stage, micro-batch and pass ("stage 1 micro-batch 0 F: ..."); waits longer than the timeout throw
// mpi::comm_timeout. Thread safety: the job's thread only; every rank must make the same calls in the same order.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "taskpipe/mpi/job.hpp"
#include "taskpipe/nn/adamw.hpp"
#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/nn/memory.hpp"
#include "taskpipe/pp/schedule.hpp"

namespace taskpipe::mpi {

/// What one rank moved in the last step, in bytes.
struct traffic {
  std::uint64_t pipeline_sent = 0;     ///< activations and gradients to its pipeline neighbours
  std::uint64_t replicas_sent = 0;     ///< its gradient buckets to the other replicas
  std::uint64_t tied_sent = 0;         ///< the tied embedding's gradient between the first and last stage
  std::uint64_t activation_bytes = 0;  ///< one micro-batch's activation (one message's payload)
  std::uint64_t gradient_bytes = 0;    ///< this rank's gradients (wte's once where it holds both copies)
};

/// The whole model on rank 0, for a checkpoint or the report.
struct gathered_model {
  gathered_model(const nn::gpt2_config& config, std::uint64_t seed, const nn::adamw_options& o)
      : model(config, seed), optimizer(model.parameters(), o) {}
  nn::gpt2 model;
  nn::adamw optimizer;
};

class worker_model {
 public:
  worker_model(const nn::gpt2_config& config, std::uint64_t seed, const pp::schedule& schedule,
               std::vector<std::size_t> bounds, job& j, const nn::adamw_options& adamw, double timeout_s);
  ~worker_model();
  worker_model(const worker_model&) = delete;
  worker_model& operator=(const worker_model&) = delete;

  /// Every rank passes the same global batch; returns the global mean loss on every rank.
  float forward_backward(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets, int batch,
                         int seq);
  /// The global gradient norm (every rank gets it); scales the gradients when max_norm > 0 and the norm exceeds it.
  double clip_grad_norm(double max_norm);
  /// The first of this rank's gradients that is not finite, or "" when all are.
  [[nodiscard]] std::string first_non_finite_gradient() const;
  void step(double lr);

  /// Rank 0 gets the whole model and optimizer state; the other ranks send theirs and get null.
  std::unique_ptr<gathered_model> gather();
  /// Takes this rank's weights (and, with `optimizer`, moments and step count) from `c`.
  void load(const nn::checkpoint& c, bool optimizer);

  [[nodiscard]] const traffic& last_traffic() const noexcept;
  [[nodiscard]] double last_busy_s() const noexcept;  ///< this rank's F, B, I and W time in the last step
  /// Since construction: this rank's F, B, I and W time, and the rest of its schedules' spans (waiting for its
  /// neighbours: the bubble), as train::worker_time counts them for a thread.
  [[nodiscard]] double busy_s() const noexcept;
  [[nodiscard]] double idle_s() const noexcept;
  /// This rank's memory: parameters, gradients, optimizer state and activations, with their peaks.
  [[nodiscard]] const nn::memory_ledger& ledger() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> m;
};

}  // namespace taskpipe::mpi
