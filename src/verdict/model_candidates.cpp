#include "taskpipe/verdict/model_candidates.hpp"

#include <cmath>

#include "taskpipe/error.hpp"

namespace taskpipe::verdict {
namespace {

int stages_per_rank(pp::kind k) {
  switch (k) {
    case pp::kind::interleaved:
    case pp::kind::zb_v:
    case pp::kind::dualpipe_v:
      return 2;
    default:
      return 1;
  }
}

// Whether the kind's generator takes P ranks and M micro-batches (its own rules decide, so they are never copied).
bool schedule_accepts(pp::kind k, int ranks, int microbatches) {
  try {
    (void)pp::make_schedule(k, {.ranks = ranks, .microbatches = microbatches, .chunks = 2});
    return true;
  } catch (const invalid_argument&) {
    return false;
  }
}

void add_pipelines(const model_workload& w, train::strategy s, int replicas, int ranks,
                   std::vector<model_candidate>& out) {
  const int layers = w.config.layers + 2;
  for (const pp::kind k : pp::all_kinds()) {
    if (ranks * stages_per_rank(k) > layers) {
      continue;
    }
    for (const int factor : {1, 2, 4, 8}) {
      const int m = factor * ranks;
      if (w.batch % (replicas * m) != 0 || !schedule_accepts(k, ranks, m)) {
        continue;
      }
      out.push_back({.kind = s,
                     .replicas = replicas,
                     .ranks = ranks,
                     .schedule = k,
                     .microbatches = m,
                     .chunks = stages_per_rank(k),
                     .threads = 1});
    }
  }
}

}  // namespace

void model_workload::validate() const {
  config.validate();
  if (batch < 1 || batch > 65536) {
    throw invalid_argument("model batch " + std::to_string(batch) + " is out of range: accepted [1, 65536]");
  }
  if (seq < 1 || seq > config.context) {
    throw invalid_argument("model seq " + std::to_string(seq) + " is out of range: accepted [1, context " +
                           std::to_string(config.context) + "]");
  }
  if (workers < 1 || workers > max_model_workers) {
    throw invalid_argument("model workers " + std::to_string(workers) + " are out of range: accepted [1, " +
                           std::to_string(max_model_workers) + "]");
  }
  if (!(memory_per_worker >= 0) || !std::isfinite(memory_per_worker)) {
    throw invalid_argument("memory per worker " + std::to_string(memory_per_worker) +
                           " is out of range: accepted >= 0 bytes (0: no limit)");
  }
}

std::string model_candidate::label() const {
  const std::string kind_name(pp::kind_name(schedule));
  const std::string m = " M=" + std::to_string(microbatches) + (schedule == pp::kind::interleaved ? " V=2" : "");
  switch (kind) {
    case train::strategy::task:
      return "task, " + std::to_string(threads) + (threads == 1 ? " thread" : " threads");
    case train::strategy::data:
      return "dp x" + std::to_string(replicas);
    case train::strategy::pipeline:
      return "pp x" + std::to_string(ranks) + " " + kind_name + m;
    case train::strategy::hybrid:
      return "hybrid " + std::to_string(replicas) + "x" + std::to_string(ranks) + " " + kind_name + m;
  }
  return "?";
}

int model_candidate::workers() const noexcept { return kind == train::strategy::task ? threads : replicas * ranks; }

model_candidate baseline_candidate() { return {}; }

std::vector<model_candidate> model_candidates(const model_workload& w) {
  w.validate();
  std::vector<model_candidate> out;
  const int n = w.workers;
  if (n > 1) {
    out.push_back({.kind = train::strategy::task, .threads = n});
    if (w.batch % n == 0) {
      out.push_back({.kind = train::strategy::data, .replicas = n});
    }
    add_pipelines(w, train::strategy::pipeline, 1, n, out);
    for (int d = 2; d * 2 <= n; ++d) {
      if (n % d == 0) {
        add_pipelines(w, train::strategy::hybrid, d, n / d, out);
      }
    }
  }
  return out;
}

}  // namespace taskpipe::verdict
