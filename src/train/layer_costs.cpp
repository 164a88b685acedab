#include "taskpipe/train/layer_costs.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <thread>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/gpt2.hpp"

namespace taskpipe::train {
namespace {

using clock = std::chrono::steady_clock;

double seconds(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

nn::tensor copy_of(const nn::tensor& t, nn::memory_ledger* ledger) {
  if (t.empty()) {
    return {};
  }
  nn::tensor c(t.shape(), nn::memory_category::activations, ledger, nn::uninitialized);
  std::memcpy(c.data(), t.data(), t.bytes());
  return c;
}

}  // namespace

std::string_view to_string(cost_source s) noexcept { return s == cost_source::flops ? "flops" : "profile"; }

cost_source parse_cost_source(std::string_view name) {
  if (name == "flops") {
    return cost_source::flops;
  }
  if (name == "profile") {
    return cost_source::profile;
  }
  throw invalid_argument("partition source '" + std::string(name) + "' is unknown: accepted flops, profile");
}

namespace {

// The profile of every layer on the calling thread; returns early (an incomplete list) once `stop` is set.
std::vector<layer_cost> profile_layers(const nn::gpt2_config& config, std::uint64_t seed, std::size_t rows,
                                       std::size_t seq, cost_source source, int repeats,
                                       const std::atomic<bool>* stop) {
  std::vector<std::int32_t> ids(rows * seq);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<std::int32_t>(i % static_cast<std::size_t>(config.vocab));
  }
  const nn::micro_batch mb{ids, ids, rows, seq, 1.0F / static_cast<float>(ids.size()), true};
  const bool timed = source == cost_source::profile;
  const std::size_t count = static_cast<std::size_t>(config.layers) + 2;

  std::vector<layer_cost> out(count);
  nn::tensor x;  // the previous layer's output: this layer's probe input
  for (std::size_t i = 0; i < count; ++i) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
      break;
    }
    nn::memory_ledger ledger;
    const std::unique_ptr<nn::layer> l = nn::make_layer(config, i, seed, &ledger);
    layer_cost& c = out[i];
    for (const nn::parameter* p : l->parameters()) {
      c.parameter_bytes += static_cast<double>(p->value.bytes());
    }
    if (!timed) {
      const nn::layer_flops f = l->flops(rows, seq);
      c.f = f.forward;
      c.b = f.backward_input;
      c.w = f.backward_weight;
    }
    const bool last = i + 1 == count;
    const int runs = timed ? repeats : 1;
    nn::tensor y;
    double f = std::numeric_limits<double>::infinity(), b = f, w = f;
    for (int k = 0; k < runs; ++k) {
      nn::tensor input = copy_of(x, &ledger);
      const std::size_t input_bytes = input.bytes();
      const std::size_t before = ledger.current(nn::memory_category::activations);
      ledger.start_window();
      const clock::time_point t0 = clock::now();
      auto r = l->forward(std::move(input), mb, nullptr);
      const clock::time_point t1 = clock::now();
      const std::size_t after = ledger.current(nn::memory_category::activations);
      // What F keeps: the activations it added, less its output, plus its input when it kept that too.
      const std::size_t held_before = before - input_bytes;
      const std::size_t kept = after - std::min(after, held_before + r.y.bytes());
      c.activation_bytes = std::max(c.activation_bytes, static_cast<double>(kept));
      // F's working memory: its input, output and scratch above the held_before + kept the two-state count sees.
      c.work_bytes = std::max(
          c.work_bytes, static_cast<double>(ledger.window_rise(nn::memory_category::activations, held_before + kept)));
      f = std::min(f, seconds(t0, t1));
      // r.y is still held here, where a run has sent and freed it: not part of I's working memory.
      const std::size_t i_start = held_before + r.y.bytes() + kept;
      ledger.start_window();
      nn::tensor dy = last ? nn::tensor{} : nn::tensor(r.y.shape(), nn::memory_category::activations, &ledger);
      std::fill(dy.span().begin(), dy.span().end(), 1e-3F);
      const clock::time_point t2 = clock::now();
      l->backward_input(*r.state, std::move(dy), nullptr);  // its input gradient is freed here
      const clock::time_point t3 = clock::now();
      // I's working memory (the output gradient it receives, its input gradient, temporaries) above F's kept.
      c.work_bytes =
          std::max(c.work_bytes, static_cast<double>(ledger.window_rise(nn::memory_category::activations, i_start)));
      // What the micro-batch holds after I until W: F's, less what I freed, plus the output gradients W needs.
      const std::size_t after_i = ledger.current(nn::memory_category::activations);
      const std::size_t held_after_i = after_i - std::min(after_i, held_before + r.y.bytes());
      c.w_bytes = std::max(c.w_bytes, static_cast<double>(held_after_i));
      ledger.start_window();
      l->backward_weight(*r.state, nullptr);  // run untimed too: its working memory counts under flops as well
      const clock::time_point t4 = clock::now();
      c.work_bytes =
          std::max(c.work_bytes, static_cast<double>(ledger.window_rise(nn::memory_category::activations, after_i)));
      if (timed) {
        b = std::min(b, seconds(t2, t3));
        w = std::min(w, seconds(t3, t4));
      }
      r.state.reset();
      y = std::move(r.y);
    }
    if (timed) {
      c.f = f;
      c.b = b;
      c.w = w;
    }
    x = copy_of(y, nullptr);
  }
  return out;
}

}  // namespace

std::vector<layer_cost> measure_layer_costs(const nn::gpt2_config& config, std::uint64_t seed, std::size_t rows,
                                            std::size_t seq, cost_source source, int repeats, int workers) {
  config.validate();
  if (rows < 1 || seq < 1 || seq > static_cast<std::size_t>(config.context)) {
    throw invalid_argument("layer costs: " + std::to_string(rows) + " rows of " + std::to_string(seq) +
                           " tokens; need rows >= 1 and seq in [1, " + std::to_string(config.context) + "]");
  }
  if (repeats < 1) {
    throw invalid_argument("layer costs: repeats " + std::to_string(repeats) + "; must be >= 1");
  }
  if (workers < 1) {
    throw invalid_argument("layer costs: workers " + std::to_string(workers) + "; must be >= 1");
  }
  if (source != cost_source::profile || workers == 1) {
    return profile_layers(config, seed, rows, seq, source, repeats, nullptr);
  }
  // workers - 1 threads run the same profile alongside, over and over, until the calling thread's is done: its times
  // are taken with every other worker busy on the same kind of work, as the ranks of a pipeline are.
  std::atomic<bool> stop{false};
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(workers - 1));
  std::vector<std::thread> alongside;
  std::vector<layer_cost> out;
  try {
    for (std::size_t k = 0; k < errors.size(); ++k) {
      alongside.emplace_back([&, k] {
        try {
          while (!stop.load(std::memory_order_relaxed)) {
            (void)profile_layers(config, seed, rows, seq, source, 1, &stop);
          }
        } catch (...) {
          errors[k] = std::current_exception();
        }
      });
    }
    out = profile_layers(config, seed, rows, seq, source, repeats, nullptr);
  } catch (...) {
    stop = true;
    for (std::thread& t : alongside) {
      t.join();
    }
    throw;
  }
  stop = true;
  for (std::thread& t : alongside) {
    t.join();
  }
  for (const std::exception_ptr& e : errors) {
    if (e) {
      std::rethrow_exception(e);
    }
  }
  return out;
}

pp::costs stage_costs(std::span<const layer_cost> layers, std::span<const std::size_t> bounds) {
  pp::costs c;
  for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
    if (bounds[s] >= bounds[s + 1] || bounds[s + 1] > layers.size()) {
      throw invalid_argument("stage costs: stage " + std::to_string(s) + " spans layers [" + std::to_string(bounds[s]) +
                             ", " + std::to_string(bounds[s + 1]) + ") of " + std::to_string(layers.size()));
    }
    pp::stage_cost sc{.f = 0, .b = 0, .w = 0};
    for (std::size_t l = bounds[s]; l < bounds[s + 1]; ++l) {
      sc.f += layers[l].f;
      sc.b += layers[l].b;
      sc.w += layers[l].w;
    }
    c.per_stage.push_back(sc);
  }
  if (c.per_stage.empty()) {
    throw invalid_argument("stage costs: a cut needs at least two bounds");
  }
  return c;
}

}  // namespace taskpipe::train
