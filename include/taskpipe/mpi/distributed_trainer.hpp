// taskpipe/mpi/distributed_trainer.hpp — train::parallel_trainer's loop for one MPI rank of a D x P job.
//
// Every rank reads the same global batch from its own loader (same order as trainer), runs its worker_model's share
// of the step, and gets the global loss and gradient norm; so every rank takes the same decisions (clip, stop, throw)
// in the same step. Checkpoints are the one-worker format: `save` gathers the whole model to world rank 0, which
// writes it atomically (nn::save_checkpoint), then every rank waits for it, so a run saved here resumes under any
// layout, in-process or MPI, and any checkpoint resumes here.
// Throws: taskpipe::invalid_argument for options out of range; taskpipe::error naming the step (and the stage,
// micro-batch and layer, or the first non-finite gradient) when a loss or gradient is not finite; mpi::comm_timeout.
// Thread safety: the job's thread only; every rank must make the same calls.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "taskpipe/mpi/job.hpp"
#include "taskpipe/mpi/worker_model.hpp"
#include "taskpipe/nn/text_data.hpp"
#include "taskpipe/train/parallel_plan.hpp"
#include "taskpipe/train/trainer.hpp"

namespace taskpipe::mpi {

class distributed_trainer {
 public:
  distributed_trainer(const nn::gpt2_config& config, std::uint64_t seed, const train::parallel_plan& plan,
                      std::span<const std::uint8_t> tokens, const train::trainer_options& options, job& j,
                      double comm_timeout_s);

  train::step_report step();
  [[nodiscard]] bool done() const noexcept { return m_step >= m_options.steps; }
  [[nodiscard]] std::int64_t steps_done() const noexcept { return m_step; }

  void load_weights(const nn::checkpoint& c);
  void resume(const nn::checkpoint& c);
  /// Collective: world rank 0 writes the file; returns after it is written.
  void save(const std::string& path);
  /// Collective: the whole model on world rank 0, null elsewhere.
  std::unique_ptr<gathered_model> gather() { return m_model.gather(); }

  worker_model& model() noexcept { return m_model; }

 private:
  nn::gpt2_config m_config;
  train::trainer_options m_options;
  job& m_job;
  double m_timeout_s;
  worker_model m_model;
  std::size_t m_data_tokens;
  nn::lr_schedule m_schedule;
  nn::batch_loader m_loader;
  std::int64_t m_step = 0;
  std::vector<std::int32_t> m_inputs;
  std::vector<std::int32_t> m_targets;
};

}  // namespace taskpipe::mpi
