#include "taskpipe/verdict/model_profile.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>
#include <tuple>

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

// A figure taken as a median is timed over runs that add up to at least least_seconds (at least least_runs of them,
// at most most_runs): the measurement (model_measurement.hpp) takes the median of steps timed the same way, so a
// prediction and its measurement see the machine alike, load included, and a millisecond figure is not one sample.
constexpr double least_seconds = 0.2;
constexpr int least_runs = 5;
constexpr int most_runs = 50;

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs `run(k)` (k = 0, 1, ...) as long as the rule above asks; `run` returns its own timings (one or several).
template <class F>
std::vector<std::vector<double>> repeated(F&& run) {
  std::vector<std::vector<double>> out;
  const clock::time_point t0 = clock::now();
  while (static_cast<int>(out.size()) < least_runs ||
         (seconds_since(t0) < least_seconds && static_cast<int>(out.size()) < most_runs)) {
    out.push_back(run(static_cast<int>(out.size())));
  }
  return out;
}

// The median timing of f, repeated as above.
template <class F>
double typical(F&& f) {
  const auto runs = repeated([&](int) {
    const clock::time_point t0 = clock::now();
    f();
    return std::vector<double>{seconds_since(t0)};
  });
  std::vector<double> t(runs.size());
  std::transform(runs.begin(), runs.end(), t.begin(), [](const std::vector<double>& r) { return r.front(); });
  return median_of(std::move(t));
}

std::vector<std::int32_t> probe_tokens(const model_workload& w, std::size_t rows) {
  std::vector<std::int32_t> ids(rows * static_cast<std::size_t>(w.seq));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<std::int32_t>(i % static_cast<std::size_t>(w.config.vocab));
  }
  return ids;
}

// The whole model's forward-backward (embedding, blocks, head and its cross-entropy) on the global batch, on `ex`
// (null: this thread), the median after a warm-up run: what `task`'s step runs on its executor.
double forward_backward_seconds(const model_workload& w, executor* ex) {
  const std::vector<std::int32_t> ids = probe_tokens(w, static_cast<std::size_t>(w.batch));
  nn::gpt2 model(w.config, w.seed);
  const auto run = [&] { (void)model.forward_backward(ids, ids, w.batch, w.seq, ex); };
  run();  // the first run allocates what later ones reuse
  return typical(run);
}

// Every layer's F, I and W seconds on `rows` sequences as a training step runs them: the whole model's layers in
// order (every F, then each layer's I and W from the head down, as the trainer's traced step), after a warm-up run.
// A layer timed alone and again (train::measure_layer_costs) finds its own weights and buffers still in cache; a step
// does not. Each pass's share of the step is its fastest run (on a loaded machine a pass of a few milliseconds is
// preempted in many runs, so its median would cut the model on noise) and the level is the median of the runs'
// totals (what a step takes on the machine as it is): pass = fastest x median total / the fastest passes' sum.
std::vector<train::layer_cost> layer_times_in_order(const model_workload& w, std::size_t rows) {
  const std::vector<std::int32_t> ids = probe_tokens(w, rows);
  const auto seq = static_cast<std::size_t>(w.seq);
  const nn::micro_batch mb{ids, ids, rows, seq, 1.0F / static_cast<float>(ids.size()), true};
  nn::gpt2 model(w.config, w.seed);
  const std::vector<nn::layer*> all = model.layers();
  const auto step = [&](int) {
    std::vector<double> t(3 * all.size());
    std::vector<std::unique_ptr<nn::layer_state>> states(all.size());
    model.zero_grad();
    nn::tensor x;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const clock::time_point t0 = clock::now();
      auto r = all[i]->forward(std::move(x), mb, nullptr);
      t[3 * i] = seconds_since(t0);
      x = std::move(r.y);
      states[i] = std::move(r.state);
    }
    nn::tensor dy;
    for (std::size_t i = all.size(); i-- > 0;) {
      clock::time_point t0 = clock::now();
      dy = all[i]->backward_input(*states[i], std::move(dy), nullptr);
      t[3 * i + 1] = seconds_since(t0);
      t0 = clock::now();
      all[i]->backward_weight(*states[i], nullptr);
      t[3 * i + 2] = seconds_since(t0);
      states[i].reset();
    }
    return t;
  };
  (void)step(0);  // the first run allocates what later ones reuse
  const auto runs = repeated(step);
  // Each pass's fastest run gives the shares; the runs' median total gives the level.
  std::vector<double> fastest_pass(3 * all.size(), std::numeric_limits<double>::infinity());
  std::vector<double> totals;
  totals.reserve(runs.size());
  for (const std::vector<double>& run : runs) {
    double total = 0;
    for (std::size_t k = 0; k < run.size(); ++k) {
      fastest_pass[k] = std::min(fastest_pass[k], run[k]);
      total += run[k];
    }
    totals.push_back(total);
  }
  double fastest_total = 0;
  for (double t : fastest_pass) {
    fastest_total += t;
  }
  const double level = fastest_total > 0 ? median_of(std::move(totals)) / fastest_total : 1.0;
  std::vector<train::layer_cost> out(all.size());
  for (std::size_t k = 0; k < fastest_pass.size(); ++k) {
    train::layer_cost& c = out[k / 3];
    (k % 3 == 0 ? c.f : k % 3 == 1 ? c.b : c.w) = fastest_pass[k] * level;
  }
  return out;
}

// Seconds of clipping (the norm and the scaling), of one AdamW step and of zeroing the gradients over the whole model,
// each per parameter byte.
std::tuple<double, double, double> optimizer_per_byte(const model_workload& w, double parameter_bytes) {
  nn::gpt2 model(w.config, w.seed);
  std::vector<nn::parameter*> params = model.parameters();
  for (nn::parameter* p : params) {
    std::fill(p->grad.span().begin(), p->grad.span().end(), 1e-3F);
  }
  nn::adamw opt(params, {});
  const double clip = typical([&] { (void)nn::clip_grad_norm(params, 1.0); });
  const double step = typical([&] { opt.step(1e-4); });
  const double zero = typical([&] { model.zero_grad(); });
  const double bytes = std::max(parameter_bytes, 1.0);
  return {clip / bytes, step / bytes, zero / bytes};
}

double reduce_per_byte(double parameter_bytes) {
  const auto n = std::max<std::size_t>(1024, static_cast<std::size_t>(parameter_bytes / sizeof(float)));
  std::vector<float> a(n, 1.0F);
  std::vector<float> b(n, 2.0F);
  const double t = typical([&] {
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

// Threads that keep `count` cores busy until destroyed: the other workers of a candidate, while two threads time what
// their runtime costs.
class busy_threads {
 public:
  explicit busy_threads(int count) {
    for (int i = 0; i < count; ++i) {
      m_threads.emplace_back([this] {
        while (!m_stop.load(std::memory_order_relaxed)) {
          burn_cpu(100);
        }
      });
    }
  }
  busy_threads(const busy_threads&) = delete;
  busy_threads& operator=(const busy_threads&) = delete;
  ~busy_threads() {
    m_stop = true;
    for (std::thread& t : m_threads) {
      t.join();
    }
  }

 private:
  std::atomic<bool> m_stop{false};
  std::vector<std::thread> m_threads;
};

// The median of `rounds` timings of f(k), k = 0, 1, ...: a waiting thread's wake-up has a long tail on a loaded machine
// (a few in a hundred take milliseconds), which a mean of so few would follow.
template <class F>
double median_timing(int rounds, F&& f) {
  std::vector<double> t(static_cast<std::size_t>(rounds));
  for (int k = 0; k < rounds; ++k) {
    const clock::time_point t0 = clock::now();
    f(k);
    t[static_cast<std::size_t>(k)] = seconds_since(t0);
  }
  return median_of(std::move(t));
}

// One message handed from one thread to another that waits for it (an empty payload, sent and received over
// pp::inproc_transport), with `others` threads busy alongside: what a rank's wait for its neighbour costs when the
// waiting thread must be woken and, when the workers outnumber the cores, scheduled. Half a round trip.
double handoff_seconds(int others) {
  const busy_threads busy(others);
  constexpr int rounds = 300;
  pp::inproc_transport link(2);
  std::thread peer([&] {
    for (int k = 0; k < rounds; ++k) {
      pp::payload p = link.recv(1, 0, {.stage = 1, .microbatch = k, .direction = pp::flow::activation});
      link.send(1, 0, {.stage = 0, .microbatch = k, .direction = pp::flow::gradient}, std::move(p));
    }
  });
  const double round_trip = median_timing(rounds, [&](int k) {
    link.send(0, 1, {.stage = 1, .microbatch = k, .direction = pp::flow::activation}, pp::payload{});
    (void)link.recv(0, 1, {.stage = 0, .microbatch = k, .direction = pp::flow::gradient});
  });
  peer.join();
  return round_trip / 2;
}

// One thread started and joined, with `others` threads busy alongside: the trainers start their replicas' and ranks'
// threads every step.
double thread_start_seconds(int others) {
  const busy_threads busy(others);
  return median_timing(100, [](int) { std::thread([] {}).join(); });
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
  const auto one_alone = train::measure_layer_costs(w.config, w.seed, 1, seq, train::cost_source::profile, 1);
  if (batch > 1) {
    say("profiling layers at " + std::to_string(batch) + " rows", 0.2);
  }
  const auto full_alone =
      batch > 1 ? train::measure_layer_costs(w.config, w.seed, batch, seq, train::cost_source::profile, 3) : one_alone;
  if (w.workers > 1) {
    const int together = std::min(w.workers, p.hardware_threads);
    say("profiling layers at " + std::to_string(batch) + " rows with " + std::to_string(together) + " at once", 0.4);
    const auto busy =
        train::measure_layer_costs(w.config, w.seed, batch, seq, train::cost_source::profile, 3, together);
    p.corun_slowdown = std::max(1.0, pass_seconds(busy) / std::max(pass_seconds(full_alone), 1e-12));
  }
  // The times the prediction uses are the layers' in a step's order (layer_times_in_order); measure_layer_costs gives
  // the bytes, and the co-run figure above compares its alone and busy times, taken the same way.
  say("timing the layers in a step's order", 0.5);
  const auto in_order = [&](std::vector<train::layer_cost> costs, std::size_t rows) {
    const std::vector<train::layer_cost> t = layer_times_in_order(w, rows);
    for (std::size_t i = 0; i < costs.size(); ++i) {
      costs[i].f = t[i].f;
      costs[i].b = t[i].b;
      costs[i].w = t[i].w;
    }
    return costs;
  };
  const auto one = in_order(one_alone, 1);
  const auto full = batch > 1 ? in_order(full_alone, batch) : one;
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
  std::tie(p.clip_seconds_per_byte, p.optimizer_seconds_per_byte, p.zero_seconds_per_byte) =
      optimizer_per_byte(w, p.parameter_bytes);
  p.reduce_seconds_per_byte = reduce_per_byte(p.parameter_bytes);
  const auto big = static_cast<std::size_t>(p.boundary_bytes_per_row * static_cast<double>(batch));
  const double copy_fixed = message_seconds(0);
  p.transport_seconds_per_byte =
      std::max(0.0, message_seconds(big) - copy_fixed) / static_cast<double>(std::max<std::size_t>(big, 1));
  if (w.workers > 1) {
    // Two of the workers time the runtime's costs; the others are busy meanwhile.
    const int others = w.workers - 2;
    p.transport_seconds_per_message = std::max(copy_fixed, handoff_seconds(others));
    p.thread_start_seconds = thread_start_seconds(others);
  } else {
    p.transport_seconds_per_message = copy_fixed;
  }

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
