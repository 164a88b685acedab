#include "taskpipe/verdict/model_profile.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>

#include "taskpipe/nn/adamw.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/pp/inproc_transport.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/train/layer_costs.hpp"
#include "taskpipe/verdict/cpu_burn.hpp"

namespace taskpipe::verdict {
namespace {

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

// The fastest of `runs` timings of f.
template <class F>
double fastest(int runs, F&& f) {
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < runs; ++i) {
    const clock::time_point t0 = clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

// The whole model's forward-backward (embedding, blocks, head and its cross-entropy) on the global batch, on `ex`
// (null: this thread), the fastest of three after a warm-up run: what `task`'s step runs on its executor.
double forward_backward_seconds(const model_workload& w, executor* ex) {
  const auto tokens = static_cast<std::size_t>(w.batch) * static_cast<std::size_t>(w.seq);
  std::vector<std::int32_t> ids(tokens);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<std::int32_t>(i % static_cast<std::size_t>(w.config.vocab));
  }
  nn::gpt2 model(w.config, w.seed);
  const auto run = [&] { (void)model.forward_backward(ids, ids, w.batch, w.seq, ex); };
  run();  // the first run allocates what later ones reuse
  return fastest(3, run);
}

// Seconds of clip + AdamW over the whole model, per parameter byte.
double optimizer_per_byte(const model_workload& w, double parameter_bytes) {
  nn::gpt2 model(w.config, w.seed);
  std::vector<nn::parameter*> params = model.parameters();
  for (nn::parameter* p : params) {
    std::fill(p->grad.span().begin(), p->grad.span().end(), 1e-3F);
  }
  nn::adamw opt(params, {});
  const double t = fastest(3, [&] {
    (void)nn::clip_grad_norm(params, 1.0);
    opt.step(1e-4);
  });
  return t / std::max(parameter_bytes, 1.0);
}

double reduce_per_byte(double parameter_bytes) {
  const auto n = std::max<std::size_t>(1024, static_cast<std::size_t>(parameter_bytes / sizeof(float)));
  std::vector<float> a(n, 1.0F);
  std::vector<float> b(n, 2.0F);
  const double t = fastest(3, [&] {
    for (std::size_t k = 0; k < n; ++k) {
      a[k] += b[k];
    }
  });
  // Keep the sum observable so the loop is not dropped.
  volatile float sink = a[n / 2];
  (void)sink;
  return t / static_cast<double>(n * sizeof(float));
}

// A message as the stage runtime moves one: copied into a payload, sent, received, copied out.
double message_seconds(std::size_t bytes) {
  pp::inproc_transport link(2);
  std::vector<std::byte> from(bytes, std::byte{1});
  std::vector<std::byte> to(bytes);
  int round = 0;
  return fastest(5, [&] {
    const pp::message_tag tag{.stage = 1, .microbatch = round++, .direction = pp::flow::activation};
    pp::payload p(from.begin(), from.end());
    link.send(0, 1, tag, std::move(p));
    const pp::payload got = link.recv(1, 0, tag);
    if (!got.empty()) {
      std::memcpy(to.data(), got.data(), got.size());
    }
  });
}

train::layer_cost minus(const train::layer_cost& a, const train::layer_cost& b, double scale) {
  return {.f = std::max(0.0, (a.f - b.f) * scale),
          .b = std::max(0.0, (a.b - b.b) * scale),
          .w = std::max(0.0, (a.w - b.w) * scale),
          .parameter_bytes = 0,
          .activation_bytes = std::max(0.0, (a.activation_bytes - b.activation_bytes) * scale),
          .w_bytes = std::max(0.0, (a.w_bytes - b.w_bytes) * scale)};
}

// F + B + W summed over the layers.
double pass_seconds(const std::vector<train::layer_cost>& layers) {
  double s = 0;
  for (const train::layer_cost& l : layers) {
    s += l.f + l.b + l.w;
  }
  return s;
}

}  // namespace

std::vector<train::layer_cost> model_profile::layers_at(double rows) const {
  std::vector<train::layer_cost> out(fixed.size());
  for (std::size_t i = 0; i < fixed.size(); ++i) {
    const train::layer_cost& a = fixed[i];
    const train::layer_cost& b = per_row[i];
    out[i] = {.f = a.f + b.f * rows,
              .b = a.b + b.b * rows,
              .w = a.w + b.w * rows,
              .parameter_bytes = a.parameter_bytes,
              .activation_bytes = a.activation_bytes + b.activation_bytes * rows,
              .w_bytes = a.w_bytes + b.w_bytes * rows};
  }
  return out;
}

double model_profile::slowdown(int workers_running) const noexcept {
  if (workers_running <= 1) {
    return 1.0;
  }
  const double n = workers_running;
  const double cores = n / std::clamp(effective_cores, 1.0, n);
  const double threads = hardware_threads > 0 ? hardware_threads : n;
  const double shared = std::max(1.0, corun_slowdown) * std::max(1.0, n / threads);
  return std::max({1.0, cores, shared});
}

model_profile profile_model(const model_workload& w, const std::function<void(const std::string&, double)>& progress) {
  w.validate();
  const auto say = [&](const std::string& what, double done) {
    if (progress) {
      progress(what, done);
    }
  };
  model_profile p;
  p.workers = w.workers;
  p.parameter_bytes = static_cast<double>(w.config.parameter_count() * sizeof(float));
  p.boundary_bytes_per_row = static_cast<double>(w.seq) * w.config.embd * static_cast<double>(sizeof(float));
  const auto seq = static_cast<std::size_t>(w.seq);
  const auto batch = static_cast<std::size_t>(w.batch);

  p.hardware_threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  say("profiling layers at 1 row", 0.0);
  const auto one = train::measure_layer_costs(w.config, w.seed, 1, seq, train::cost_source::profile, 3);
  if (batch > 1) {
    say("profiling layers at " + std::to_string(batch) + " rows", 0.2);
  }
  const auto full =
      batch > 1 ? train::measure_layer_costs(w.config, w.seed, batch, seq, train::cost_source::profile, 3) : one;
  if (w.workers > 1) {
    const int together = std::min(w.workers, p.hardware_threads);
    say("profiling layers at " + std::to_string(batch) + " rows with " + std::to_string(together) + " at once", 0.4);
    const auto busy =
        train::measure_layer_costs(w.config, w.seed, batch, seq, train::cost_source::profile, 3, together);
    p.corun_slowdown = std::max(1.0, pass_seconds(busy) / std::max(pass_seconds(full), 1e-12));
  }
  if (batch > 1) {
    const double scale = 1.0 / static_cast<double>(batch - 1);
    for (std::size_t i = 0; i < one.size(); ++i) {
      const train::layer_cost slope = minus(full[i], one[i], scale);
      train::layer_cost base = minus(one[i], slope, 1.0);
      base.parameter_bytes = one[i].parameter_bytes;
      p.per_row.push_back(slope);
      p.fixed.push_back(base);
    }
  } else {
    for (const train::layer_cost& c : one) {
      p.per_row.push_back({.f = c.f,
                           .b = c.b,
                           .w = c.w,
                           .parameter_bytes = 0,
                           .activation_bytes = c.activation_bytes,
                           .w_bytes = c.w_bytes});
      p.fixed.push_back({.f = 0, .b = 0, .w = 0, .parameter_bytes = c.parameter_bytes, .activation_bytes = 0});
    }
  }

  say("profiling the optimizer and the transport", 0.6);
  p.optimizer_seconds_per_byte = optimizer_per_byte(w, p.parameter_bytes);
  p.reduce_seconds_per_byte = reduce_per_byte(p.parameter_bytes);
  const auto big = static_cast<std::size_t>(p.boundary_bytes_per_row * static_cast<double>(batch));
  p.transport_seconds_per_message = message_seconds(0);
  p.transport_seconds_per_byte = std::max(0.0, message_seconds(big) - p.transport_seconds_per_message) /
                                 static_cast<double>(std::max<std::size_t>(big, 1));

  if (w.workers > 1) {
    say("timing the forward-backward on " + std::to_string(w.workers) + " threads", 0.75);
    const double serial = forward_backward_seconds(w, nullptr);
    executor ex{executor_options{.workers = static_cast<std::size_t>(w.workers)}};
    const double parallel = forward_backward_seconds(w, &ex);
    p.intra_op_speedup = std::clamp(serial / std::max(parallel, 1e-12), 0.1, static_cast<double>(w.workers));
    const double single = effective_cores(1);
    const double many = effective_cores(static_cast<std::size_t>(w.workers));
    p.effective_cores = std::clamp(many / std::max(single, 1e-3), 1.0, static_cast<double>(w.workers));
  }
  say("profiled", 1.0);
  return p;
}

}  // namespace taskpipe::verdict
