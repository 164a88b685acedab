#include "taskpipe/train/trainer.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/non_finite_error.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/train/detail/step_checks.hpp"

namespace taskpipe::train {
namespace {

using clock = std::chrono::steady_clock;

double micros(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

void check_finite(const nn::tensor& y, const std::string& layer) {
  for (const float v : y.span()) {
    if (!std::isfinite(v)) {
      throw nn::non_finite_error(layer);
    }
  }
}

// gpt2::forward_backward with each layer's F, B and W timed on the timeline's track 1: the same layer calls in the
// same order (backward = B then W), so a traced step gives the same bits as an untraced one.
float traced_forward_backward(nn::gpt2& model, const nn::micro_batch& mb, executor* ex, trace::timeline& tl,
                              clock::time_point epoch, std::int64_t step) {
  const std::vector<nn::layer*> all = model.layers();
  std::vector<std::unique_ptr<nn::layer_state>> states(all.size());
  model.zero_grad();
  const auto record = [&](const std::string& pass, const std::string& layer, clock::time_point t0) {
    const clock::time_point t1 = clock::now();
    tl.events.push_back({.track = 1,
                         .name = pass + " " + layer,
                         .label = pass,
                         .category = pass,
                         .start = micros(epoch, t0),
                         .duration = micros(t0, t1),
                         .args = {{"step", step}}});
  };
  nn::tensor x;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const clock::time_point t0 = clock::now();
    auto r = all[i]->forward(std::move(x), mb, ex);
    record("F", all[i]->name(), t0);
    check_finite(r.y, all[i]->name());
    x = std::move(r.y);
    states[i] = std::move(r.state);
  }
  if (x.size() != 1) {  // as gpt2::forward_backward checks: the head's output is the loss, anything else is malformed
    throw error("trainer: the last layer returned " + std::to_string(x.size()) + " values, expected the loss");
  }
  const float loss = x[0];
  nn::tensor dy;
  for (std::size_t i = all.size(); i-- > 0;) {
    clock::time_point t0 = clock::now();
    dy = all[i]->backward_input(*states[i], std::move(dy), ex);
    record("B", all[i]->name(), t0);
    t0 = clock::now();
    all[i]->backward_weight(*states[i], ex);
    record("W", all[i]->name(), t0);
    states[i].reset();
  }
  return loss;
}

}  // namespace

void trainer_options::validate(const nn::gpt2_config& config) const {
  adamw.validate();
  if (!(grad_clip >= 0 && grad_clip <= 1e6)) {
    throw invalid_argument("grad clip " + std::to_string(grad_clip) + " is out of range: accepted [0, 1e6]");
  }
  if (steps < 1) {
    throw invalid_argument("steps " + std::to_string(steps) + " is out of range: accepted >= 1");
  }
  if (warmup < 0 || warmup >= steps) {
    throw invalid_argument("warmup " + std::to_string(warmup) + " is out of range: accepted [0, steps " +
                           std::to_string(steps) + ")");
  }
  nn::lr_schedule{.lr = adamw.lr, .warmup = warmup, .cosine = cosine, .floor = lr_floor, .steps = steps}.validate();
  if (batch < 1) {
    throw invalid_argument("batch " + std::to_string(batch) + " is out of range: accepted >= 1");
  }
  if (seq < 1 || seq > config.context) {
    throw invalid_argument("seq " + std::to_string(seq) + " is longer than the model's context " +
                           std::to_string(config.context) + ": accepted [1, " + std::to_string(config.context) + "]");
  }
}

trainer::trainer(nn::gpt2& model, std::span<const std::uint8_t> tokens, const trainer_options& options, executor* ex,
                 nn::memory_ledger* ledger, trace::timeline* timeline)
    : m_model(model),
      m_options((options.validate(model.config()), options)),
      m_params(model.parameters()),
      m_data_tokens(tokens.size()),
      m_optimizer(m_params, options.adamw, ledger),
      m_schedule{.lr = options.adamw.lr,
                 .warmup = options.warmup,
                 .cosine = options.cosine,
                 .floor = options.lr_floor,
                 .steps = options.steps},
      m_loader(tokens, options.batch, options.seq, options.shuffle, options.seed),
      m_ex(ex),
      m_timeline(timeline),
      m_epoch(clock::now()) {
  if (m_timeline != nullptr && m_timeline->tracks.empty()) {
    m_timeline->tracks = {"training step", "layers (F, B, W)"};
  }
}

step_report trainer::step() {
  if (done()) {
    throw error("the run has done its " + std::to_string(m_options.steps) + " steps");
  }
  step_report r;
  r.step = m_step;
  const std::string at = detail::step_prefix(m_step);
  const clock::time_point t0 = clock::now();
  m_loader.next(m_inputs, m_targets);
  const clock::time_point t1 = clock::now();
  try {
    if (m_timeline == nullptr) {
      r.loss = m_model.forward_backward(m_inputs, m_targets, m_options.batch, m_options.seq, m_ex);
    } else {
      const auto rows = static_cast<std::size_t>(m_options.batch) * static_cast<std::size_t>(m_options.seq);
      const nn::micro_batch mb{m_inputs,
                               m_targets,
                               static_cast<std::size_t>(m_options.batch),
                               static_cast<std::size_t>(m_options.seq),
                               static_cast<float>(1.0 / static_cast<double>(rows)),
                               true};
      const auto body = [&] { return traced_forward_backward(m_model, mb, m_ex, *m_timeline, m_epoch, m_step); };
      // As the model does: from outside the executor, the whole pass runs on one of its workers.
      r.loss = m_ex != nullptr && !m_ex->this_worker_index() ? m_ex->async(body).get() : body();
    }
  } catch (const nn::non_finite_error& e) {
    throw error(at + e.what());
  }
  detail::check_loss(r.loss, m_step);
  const clock::time_point t2 = clock::now();
  r.grad_norm = m_options.grad_clip > 0 ? nn::clip_grad_norm(m_params, m_options.grad_clip) : nn::grad_norm(m_params);
  detail::check_grad_norm(r.grad_norm, m_params, m_step);
  const clock::time_point t3 = clock::now();
  r.lr = m_schedule.at(m_step);
  m_optimizer.step(r.lr);
  const clock::time_point t4 = clock::now();
  r.seconds = std::chrono::duration<double>(t4 - t0).count();
  if (m_timeline != nullptr) {
    const std::pair<const char*, std::pair<clock::time_point, clock::time_point>> phases[] = {
        {"data", {t0, t1}}, {"forward_backward", {t1, t2}}, {"clip", {t2, t3}}, {"adamw", {t3, t4}}};
    for (const auto& [name, span] : phases) {
      m_timeline->events.push_back({.track = 0,
                                    .name = name,
                                    .label = name,
                                    .category = name,
                                    .start = micros(m_epoch, span.first),
                                    .duration = micros(span.first, span.second),
                                    .args = {{"step", m_step}}});
    }
  }
  ++m_step;
  return r;
}

void trainer::resume(const nn::checkpoint& c) {
  detail::check_resumable(c, m_options, m_data_tokens);
  nn::load_optimizer(c, m_optimizer);
  m_loader.set_state(c.position->data);
  m_step = c.position->step;
}

void trainer::save(const std::string& path) const {
  const nn::training_position p{.step = m_step,
                                .data = m_loader.state(),
                                .batch = m_options.batch,
                                .seq = m_options.seq,
                                .shuffle = m_options.shuffle,
                                .seed = m_options.seed,
                                .data_tokens = m_data_tokens};
  nn::save_checkpoint(path, m_model.config(), m_params, &m_optimizer, &p);
}

double evaluate(nn::gpt2& model, std::span<const std::uint8_t> tokens, int batch, int seq, int batches, executor* ex) {
  if (batches < 1) {
    throw invalid_argument("batches " + std::to_string(batches) + " is out of range: accepted >= 1");
  }
  nn::batch_loader loader(tokens, batch, seq);
  std::vector<std::int32_t> x, y;
  double sum = 0;
  for (int i = 0; i < batches; ++i) {
    loader.next(x, y);
    const float l = model.loss(x, y, batch, seq, ex);
    if (!std::isfinite(l)) {
      throw error("evaluation batch " + std::to_string(i) + ": the loss is " + std::to_string(l));
    }
    sum += l;
  }
  return sum / batches;
}

std::string parameter_checksum(std::span<nn::parameter* const> params) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const nn::parameter* p : params) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(p->value.data());
    for (std::size_t i = 0; i < p->value.bytes(); ++i) {
      h = (h ^ bytes[i]) * 0x100000001b3ULL;
    }
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return std::string("fnv1a64:") + text;
}

}  // namespace taskpipe::train
