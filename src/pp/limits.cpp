#include "taskpipe/pp/limits.hpp"

#include "taskpipe/error.hpp"

#include <string>

namespace taskpipe::pp {

namespace {

void check_range(std::string_view what, long long value, long long lo, long long hi) {
  if (value < lo || value > hi) {
    throw invalid_argument(std::string(what) + " = " + std::to_string(value) + ": must be in [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]");
  }
}

}  // namespace

long long stage_count(kind k, const schedule_options& options) noexcept {
  const long long ranks = options.ranks;
  switch (k) {
    case kind::interleaved:
      return ranks * options.chunks;
    case kind::zb_v:
      return ranks * 2;
    default:
      return ranks;
  }
}

void check_limits(kind k, const schedule_options& options) {
  const std::string at = std::string(kind_name(k)) + ": ";
  check_range(at + "ranks", options.ranks, 1, max_ranks);
  check_range(at + "microbatches", options.microbatches, 1, max_microbatches);
  if (k == kind::interleaved) {
    check_range(at + "chunks", options.chunks, 2, max_chunks);
  }
  check_range(at + "layers", options.layers, 0, max_layers);
  check_range(at + "memory_limit", options.memory_limit, 0, max_memory_limit);
  // Every factor is bounded above, so these products fit a long long.
  const long long stages = stage_count(k, options);
  if (stages > max_stages) {
    throw invalid_argument(at + std::to_string(stages) + " stages (ranks x chunks): at most " +
                           std::to_string(max_stages));
  }
  const long long work = stages * options.microbatches;
  if (work > max_work) {
    throw invalid_argument(at + std::to_string(stages) + " stages x " + std::to_string(options.microbatches) +
                           " micro-batches = " + std::to_string(work) + ": at most " + std::to_string(max_work));
  }
}

}  // namespace taskpipe::pp
