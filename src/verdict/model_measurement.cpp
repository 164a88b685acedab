#include "taskpipe/verdict/model_measurement.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/train/parallel_trainer.hpp"
#include "taskpipe/train/trainer.hpp"

namespace taskpipe::verdict {
namespace {

std::vector<std::uint8_t> token_stream(const model_workload& w, int steps) {
  const std::size_t n =
      static_cast<std::size_t>(w.batch) * static_cast<std::size_t>(w.seq) * static_cast<std::size_t>(steps + 1) + 1;
  const auto vocab = static_cast<std::uint64_t>(std::min(w.config.vocab, 256));
  std::vector<std::uint8_t> out(n);
  std::uint64_t x = w.seed;
  for (auto& b : out) {
    x += 0x9e3779b97f4a7c15ULL;  // splitmix64
    std::uint64_t z = x;
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    b = static_cast<std::uint8_t>((z ^ (z >> 31U)) % vocab);
  }
  return out;
}

// Short steps are timed for at least this long in all (more steps, up to most_steps), so a step of a millisecond is
// not judged on a handful of samples that one preemption decides.
constexpr double least_seconds = 0.2;
constexpr int most_steps = 200;

template <class Trainer>
model_measurement run_steps(Trainer& tr, int steps) {
  (void)tr.step();  // warm-up: the first step allocates what later ones reuse
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(steps));
  double total = 0;
  while (static_cast<int>(times.size()) < steps ||
         (total < least_seconds && static_cast<int>(times.size()) < most_steps)) {
    times.push_back(tr.step().seconds);
    total += times.back();
  }
  std::sort(times.begin(), times.end());
  model_measurement m;
  m.steps = static_cast<int>(times.size());
  m.step_seconds = times[times.size() / 2];
  m.spread = m.step_seconds > 0 ? (times.back() - times.front()) / m.step_seconds : 0;
  return m;
}

}  // namespace

model_measurement measure_model(const model_workload& w, const model_prediction& p, int steps,
                                trace::timeline* timeline) {
  w.validate();
  if (steps < 1 || steps > 100) {
    throw invalid_argument("measured steps " + std::to_string(steps) + " are out of range: accepted [1, 100]");
  }
  const int most = std::max(steps, most_steps);
  const std::vector<std::uint8_t> tokens = token_stream(w, most);
  train::trainer_options o;
  o.steps = most + 1;
  o.batch = w.batch;
  o.seq = w.seq;
  o.seed = w.seed;
  const model_candidate& c = p.candidate;
  if (c.kind == train::strategy::task) {
    nn::memory_ledger ledger;
    nn::gpt2 model(w.config, w.seed, &ledger);
    std::unique_ptr<executor> ex;
    if (c.threads > 1) {
      ex = std::make_unique<executor>(executor_options{.workers = static_cast<std::size_t>(c.threads)});
    }
    train::trainer tr(model, tokens, o, ex.get(), &ledger, timeline);
    model_measurement m = run_steps(tr, steps);
    m.peak_bytes = static_cast<double>(ledger.peak_total());
    return m;
  }
  train::parallel_plan plan;
  plan.kind = c.kind;
  plan.replicas = c.replicas;
  plan.schedule = p.schedule;
  plan.rows_per_microbatch = static_cast<std::size_t>(w.batch / (c.replicas * p.schedule.microbatches));
  plan.costs = train::cost_source::profile;
  plan.cut.bounds = p.bounds;
  train::parallel_trainer tr(w.config, w.seed, plan, tokens, o, timeline);
  model_measurement m = run_steps(tr, steps);
  for (int d = 0; d < tr.model().replicas(); ++d) {
    for (int r = 0; r < tr.model().ranks(); ++r) {
      m.peak_bytes = std::max(m.peak_bytes, static_cast<double>(tr.model().ledger(d, r).peak_total()));
    }
  }
  return m;
}

}  // namespace taskpipe::verdict
