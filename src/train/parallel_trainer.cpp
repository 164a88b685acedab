#include "taskpipe/train/parallel_trainer.hpp"

#include <algorithm>
#include <string>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/non_finite_error.hpp"
#include "taskpipe/train/detail/step_checks.hpp"

namespace taskpipe::train {
namespace {

using clock = std::chrono::steady_clock;

double micros(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

const trainer_options& checked(const trainer_options& o, const nn::gpt2_config& config, const parallel_plan& plan) {
  o.validate(config);
  detail::check_batch_split(o.batch, plan.replicas, plan.schedule.microbatches);
  return o;
}

}  // namespace

parallel_trainer::parallel_trainer(const nn::gpt2_config& config, std::uint64_t seed, const parallel_plan& plan,
                                   std::span<const std::uint8_t> tokens, const trainer_options& options,
                                   trace::timeline* timeline)
    : m_config(config),
      m_options(checked(options, config, plan)),
      m_model(config, seed, plan.schedule, plan.cut.bounds, plan.replicas, options.adamw),
      m_params(m_model.parameters(0)),
      m_data_tokens(tokens.size()),
      m_schedule{.lr = options.adamw.lr,
                 .warmup = options.warmup,
                 .cosine = options.cosine,
                 .floor = options.lr_floor,
                 .steps = options.steps},
      m_loader(tokens, options.batch, options.seq, options.shuffle, options.seed),
      m_timeline(timeline),
      m_epoch(clock::now()) {
  for (int d = 0; d < m_model.replicas(); ++d) {
    for (int r = 0; r < m_model.ranks(); ++r) {
      m_times.push_back({.replica = d, .rank = r});
    }
  }
  if (m_timeline != nullptr && m_timeline->tracks.empty()) {
    m_timeline->tracks.push_back("training step");
    for (const worker_time& w : m_times) {
      m_timeline->tracks.push_back("replica " + std::to_string(w.replica) + " rank " + std::to_string(w.rank));
    }
  }
}

step_report parallel_trainer::step() {
  if (done()) {
    throw error("the run has done its " + std::to_string(m_options.steps) + " steps");
  }
  step_report r;
  r.step = m_step;
  const clock::time_point t0 = clock::now();
  m_loader.next(m_inputs, m_targets);
  const clock::time_point t1 = clock::now();
  try {
    r.loss = m_model.forward_backward(m_inputs, m_targets, m_options.batch, m_options.seq);
  } catch (const nn::non_finite_error& e) {
    throw error(detail::step_prefix(m_step) + e.what());
  }
  detail::check_loss(r.loss, m_step);
  const clock::time_point t2 = clock::now();
  r.grad_norm = m_options.grad_clip > 0 ? m_model.clip_grad_norm(m_options.grad_clip) : nn::grad_norm(m_params);
  detail::check_grad_norm(r.grad_norm, m_params, m_step);
  const clock::time_point t3 = clock::now();
  r.lr = m_schedule.at(m_step);
  m_model.step(r.lr);
  const clock::time_point t4 = clock::now();
  r.seconds = std::chrono::duration<double>(t4 - t0).count();
  record(r, t0, {t1, t2, t3, t4});
  ++m_step;
  return r;
}

void parallel_trainer::record(const step_report& r, clock::time_point t0,
                              const std::vector<clock::time_point>& phases) {
  const auto ranks = static_cast<std::size_t>(m_model.ranks());
  for (int d = 0; d < m_model.replicas(); ++d) {
    const parallel_model::replica_run& run = m_model.last_run(d);
    std::vector<double> busy(ranks, 0);
    for (const pp::timed_action& a : run.result.actions) {
      busy[static_cast<std::size_t>(a.rank)] += a.finish - a.start;
    }
    for (std::size_t k = 0; k < ranks; ++k) {
      worker_time& w = m_times[static_cast<std::size_t>(d) * ranks + k];
      w.busy += busy[k];
      w.idle += std::max(0.0, run.result.makespan_s - busy[k]);
    }
    if (m_timeline == nullptr) {
      continue;
    }
    const double origin = micros(m_epoch, run.start);
    for (const pp::timed_action& a : run.result.actions) {
      trace::event e;
      e.track = 1 + d * m_model.ranks() + a.rank;
      e.name = pp::to_string(a.what);
      e.category.assign(1, pp::kind_letter(a.what.kind));
      e.label = e.category + std::to_string(a.what.microbatch);
      e.start = origin + a.start * 1e6;
      e.duration = (a.finish - a.start) * 1e6;
      e.args = {{"stage", a.what.stage}, {"microbatch", a.what.microbatch}, {"step", r.step}};
      m_timeline->events.push_back(std::move(e));
    }
  }
  if (m_timeline == nullptr) {
    return;
  }
  const char* names[] = {"data", "forward_backward", "clip", "adamw"};
  clock::time_point from = t0;
  for (std::size_t i = 0; i < phases.size(); ++i) {
    m_timeline->events.push_back({.track = 0,
                                  .name = names[i],
                                  .label = names[i],
                                  .category = names[i],
                                  .start = micros(m_epoch, from),
                                  .duration = micros(from, phases[i]),
                                  .args = {{"step", r.step}}});
    from = phases[i];
  }
}

void parallel_trainer::load_weights(const nn::checkpoint& c) {
  nn::load_weights(c, m_params);
  m_model.broadcast_parameters();
}

void parallel_trainer::resume(const nn::checkpoint& c) {
  detail::check_resumable(c, m_options, m_data_tokens);
  load_weights(c);
  nn::adamw state(m_params, m_options.adamw);
  nn::load_optimizer(c, state);
  m_model.import_optimizer(state);
  m_loader.set_state(c.position->data);
  m_step = c.position->step;
}

void parallel_trainer::save(const std::string& path) {
  nn::adamw state(m_params, m_options.adamw);
  m_model.export_optimizer(state);
  const nn::training_position p{.step = m_step,
                                .data = m_loader.state(),
                                .batch = m_options.batch,
                                .seq = m_options.seq,
                                .shuffle = m_options.shuffle,
                                .seed = m_options.seed,
                                .data_tokens = m_data_tokens};
  nn::save_checkpoint(path, m_config, m_params, &state, &p);
}

}  // namespace taskpipe::train
