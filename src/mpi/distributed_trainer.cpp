#include "taskpipe/mpi/distributed_trainer.hpp"

#include <chrono>
#include <cmath>

#include "taskpipe/error.hpp"
#include "taskpipe/mpi/comm_timeout.hpp"
#include "taskpipe/train/detail/step_checks.hpp"

namespace taskpipe::mpi {
namespace {

const train::trainer_options& checked(const train::trainer_options& o, const nn::gpt2_config& config,
                                      const train::parallel_plan& plan) {
  o.validate(config);
  train::detail::check_batch_split(o.batch, plan.replicas, plan.schedule.microbatches);
  return o;
}

}  // namespace

distributed_trainer::distributed_trainer(const nn::gpt2_config& config, std::uint64_t seed,
                                         const train::parallel_plan& plan, std::span<const std::uint8_t> tokens,
                                         const train::trainer_options& options, job& j, double comm_timeout_s)
    : m_config(config),
      m_options(checked(options, config, plan)),
      m_job(j),
      m_timeout_s(comm_timeout_s),
      m_model(config, seed, plan.schedule, plan.cut.bounds, j, options.adamw, comm_timeout_s),
      m_data_tokens(tokens.size()),
      m_schedule{.lr = options.adamw.lr,
                 .warmup = options.warmup,
                 .cosine = options.cosine,
                 .floor = options.lr_floor,
                 .steps = options.steps},
      m_loader(tokens, options.batch, options.seq, options.shuffle, options.seed) {}

train::step_report distributed_trainer::step() {
  if (done()) {
    throw error("the run has done its " + std::to_string(m_options.steps) + " steps");
  }
  train::step_report r;
  r.step = m_step;
  const auto t0 = std::chrono::steady_clock::now();
  m_loader.next(m_inputs, m_targets);
  try {
    r.loss = m_model.forward_backward(m_inputs, m_targets, m_options.batch, m_options.seq);
  } catch (const comm_timeout& e) {
    throw comm_timeout(train::detail::step_prefix(m_step) + e.what());
  } catch (const std::exception& e) {
    throw error(train::detail::step_prefix(m_step) + e.what());
  }
  train::detail::check_loss(r.loss, m_step);
  r.grad_norm = m_model.clip_grad_norm(m_options.grad_clip);
  if (!std::isfinite(r.grad_norm)) {
    const std::string name = m_model.first_non_finite_gradient();
    throw error(train::detail::step_prefix(m_step) +
                (name.empty() ? "the gradient norm is not finite (a gradient held by another rank)"
                              : "the gradient of " + name + " is not finite (NaN or inf)"));
  }
  r.lr = m_schedule.at(m_step);
  m_model.step(r.lr);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++m_step;
  return r;
}

void distributed_trainer::load_weights(const nn::checkpoint& c) { m_model.load(c, false); }

void distributed_trainer::resume(const nn::checkpoint& c) {
  train::detail::check_resumable(c, m_options, m_data_tokens);
  m_model.load(c, true);
  m_loader.set_state(c.position->data);
  m_step = c.position->step;
}

void distributed_trainer::save(const std::string& path) {
  std::unique_ptr<gathered_model> whole = m_model.gather();
  if (whole) {
    const nn::training_position p{.step = m_step,
                                  .data = m_loader.state(),
                                  .batch = m_options.batch,
                                  .seq = m_options.seq,
                                  .shuffle = m_options.shuffle,
                                  .seed = m_options.seed,
                                  .data_tokens = m_data_tokens};
    const std::vector<nn::parameter*> params = whole->model.parameters();
    nn::save_checkpoint(path, m_config, params, &whole->optimizer, &p);
  }
  m_job.barrier(m_timeout_s, "the end of the checkpoint write (world rank 0 writes it)");
}

}  // namespace taskpipe::mpi
