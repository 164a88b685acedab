// taskpipe/train/parallel_model.hpp — the GPT-2 model trained data-, pipeline- or hybrid-parallel on real workers.
//
// D replicas x P pipeline ranks. Each replica cuts the layer list (embedding, h.0 .. h.{L-1}, head) at `bounds` into
// the schedule's stages and builds each stage's layers alone (nn::make_layer), so a rank holds only its own
// parameters, on its own memory_ledger; the last stage's head owns its own wte copy. `forward_backward` splits the
// global batch by rows: replica d gets rows [d·B/D, (d+1)·B/D), cut into the schedule's M micro-batches, each with
// loss_scale = 1 / (B·T) so the shares add up to the global batch's mean; every replica runs pp::run_schedule (one
// thread per rank, activations and gradients as payload bytes over the in-process transport), the replicas at once.
// Then the gradients are summed across replicas in replica order (0 + 1 + ...: deterministic) and copied back, and the
// two tied-wte contributions (embedding's, head's copy) are summed into both copies. `clip_grad_norm` uses the
// global norm over every parameter once (wte once); `step` runs each rank's own AdamW, so the two wte copies and all
// replicas receive identical updates and stay equal.
// State transfer, for checkpoints written and read under any layout: `export_optimizer` / `import_optimizer` move each
// parameter's AdamW moments and the step count, each parameter once in checkpoint order (wte: the embedding's copy),
// through an nn::adamw built over `parameters(0)` (what nn::save_checkpoint and nn::load_optimizer read and write);
// import and `broadcast_parameters` give every replica and the head's wte copy the same state, so they stay equal.
// `last_run` keeps the stage runtime's record of the last forward_backward (one per replica), for idle time and traces.
// Every layer's output is checked as it is produced: the first non-finite one throws nn::non_finite_error naming it.
// Thread safety: one call at a time. Throws taskpipe::invalid_argument for a batch not divisible into D replicas and M
// micro-batches, bounds that do not cover the layers, or a schedule whose stage count differs; the first exception a
// layer throws (e.g. nn::non_finite_error) is rethrown from forward_backward.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "taskpipe/nn/adamw.hpp"
#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/nn/layer.hpp"
#include "taskpipe/nn/memory.hpp"
#include "taskpipe/pp/costs.hpp"
#include "taskpipe/pp/schedule.hpp"
#include "taskpipe/pp/stage_runtime.hpp"

namespace taskpipe::train {

class parallel_model {
 public:
  parallel_model(const nn::gpt2_config& config, std::uint64_t seed, const pp::schedule& schedule,
                 std::vector<std::size_t> bounds, int replicas, const nn::adamw_options& adamw = {});
  ~parallel_model();
  parallel_model(const parallel_model&) = delete;
  parallel_model& operator=(const parallel_model&) = delete;

  /// Zeroes the gradients, runs F, B and W of the global batch (batch rows of seq tokens) and returns the mean loss.
  float forward_backward(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets, int batch,
                         int seq);
  /// The global gradient norm (each parameter once); scales every gradient when it exceeds max_norm (torch's rule).
  double clip_grad_norm(double max_norm);
  /// One AdamW step on every rank of every replica at rate lr.
  void step(double lr);

  /// Replica r's parameters, each once (wte the embedding's), in checkpoint order.
  std::vector<nn::parameter*> parameters(int replica = 0);
  /// The head's own wte copy in replica r.
  nn::parameter& head_wte(int replica = 0);
  /// The ledger of one worker (replica, pipeline rank).
  nn::memory_ledger& ledger(int replica, int rank);
  [[nodiscard]] int ranks() const noexcept;
  [[nodiscard]] int replicas() const noexcept;
  /// Writes the AdamW moments of every parameter (each once, checkpoint order) and the step count into `out`, an
  /// optimizer over parameters with the names and shapes of parameters(0) (e.g. a one-worker gpt2's). Throws
  /// taskpipe::invalid_argument when its parameters do not match.
  void export_optimizer(nn::adamw& out);
  /// The inverse: every rank of every replica takes `in`'s moments and step count; the head's wte copy takes wte's.
  void import_optimizer(const nn::adamw& in);
  /// Copies replica 0's parameter values to the head's wte copy and to every other replica (after loading weights
  /// into parameters(0)).
  void broadcast_parameters();

  /// What the stage runtime recorded for replica r in the last forward_backward, and when (about) its first action
  /// started on the steady clock, to place its times (seconds from that start) on a common clock.
  struct replica_run {
    pp::run_result result;
    std::chrono::steady_clock::time_point start{};
  };
  [[nodiscard]] const replica_run& last_run(int replica) const;

  /// The most bytes one micro-batch's activations hold on `rank` between its F and its W, measured by the runs so far:
  /// the larger of what its F keeps (with its output, until sent) and what it holds after its I (F's, less what I
  /// frees, plus the output gradients I keeps for W and the gradient it sends). With
  /// pp::simulation::peak_activations_until_w this bounds the rank's activation peak.
  [[nodiscard]] std::size_t micro_batch_activation_bytes(int rank) const;

  /// Per stage, the most bytes one micro-batch's activations held in replica 0 by the runs so far, between its passes:
  /// after its F (what F kept; its output is sent and freed as the F ends) and after its I (what F kept, less what I
  /// freed, plus what I keeps for W; the input gradient it sends excluded). The I may keep more than it frees (a block
  /// keeps its matmuls' output gradients). And within its passes, the working memory: how far the rank's activations
  /// rose during an F above its start level plus what the F keeps (its output, attention's scratch...), during an I
  /// or a W above its start level (the input gradient, a split backward's temporaries), each the ledger's window peak
  /// (nn::memory_ledger::start_window) around the pass.
  struct stage_activations {
    std::size_t after_forward = 0;
    std::size_t after_input_grad = 0;
    std::size_t forward_work = 0;
    std::size_t input_grad_work = 0;
    std::size_t weight_grad_work = 0;
  };
  [[nodiscard]] stage_activations micro_batch_stage_bytes(int stage) const;
  /// `times` (one entry, or one per stage) with each stage's activation_bytes and w_bytes set to
  /// micro_batch_stage_bytes' after_forward and after_input_grad, and its f/b/w_work_bytes to the three working
  /// figures: the simulator's count (pp::simulation::peak_activation_bytes) of the activations the runs hold, between
  /// passes and within them. Throws taskpipe::invalid_argument when `times` has another number of stages.
  [[nodiscard]] pp::costs activation_costs(pp::costs times) const;

 private:
  struct impl;
  std::unique_ptr<impl> m;
};

}  // namespace taskpipe::train
