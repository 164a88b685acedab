#include "taskpipe/pp/schedule.hpp"

#include "taskpipe/error.hpp"

namespace taskpipe::pp {

int schedule::rank_of(int stage) const {
  if (stage < 0 || stage >= static_cast<int>(stage_rank.size())) {
    throw invalid_argument("stage " + std::to_string(stage) + " out of range: the schedule has stages 0.." +
                           std::to_string(static_cast<int>(stage_rank.size()) - 1));
  }
  return stage_rank[static_cast<std::size_t>(stage)];
}

std::size_t schedule::action_count() const noexcept {
  std::size_t n = 0;
  for (const auto& order : orders) {
    n += order.size();
  }
  return n;
}

namespace {

void require_positive(int value, const char* what) {
  if (value < 1) {
    throw invalid_argument(std::string(what) + " = " + std::to_string(value) + ": must be >= 1");
  }
}

}  // namespace

std::vector<int> linear_placement(int ranks) { return looped_placement(ranks, 1); }

std::vector<int> looped_placement(int ranks, int chunks) {
  require_positive(ranks, "ranks");
  require_positive(chunks, "chunks");
  std::vector<int> out;
  out.reserve(static_cast<std::size_t>(ranks) * static_cast<std::size_t>(chunks));
  for (int s = 0; s < ranks * chunks; ++s) {
    out.push_back(s % ranks);
  }
  return out;
}

std::vector<int> v_placement(int ranks) {
  require_positive(ranks, "ranks");
  std::vector<int> out;
  out.reserve(2 * static_cast<std::size_t>(ranks));
  for (int s = 0; s < 2 * ranks; ++s) {
    out.push_back(s < ranks ? s : 2 * ranks - 1 - s);
  }
  return out;
}

}  // namespace taskpipe::pp
