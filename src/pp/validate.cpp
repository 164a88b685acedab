#include "taskpipe/pp/validate.hpp"

#include "taskpipe/pp/detail/dependencies.hpp"

#include <string>
#include <vector>

namespace taskpipe::pp {

namespace {

using detail::dependency;

std::string at(std::size_t rank, std::size_t step, const action& a) {
  return "rank " + std::to_string(rank) + " step " + std::to_string(step) + " (" + to_string(a) + ")";
}

std::string describe(const dependency& d) {
  return d.grad ? "the input gradient of stage " + std::to_string(d.stage) + " micro-batch " +
                      std::to_string(d.microbatch) + " (its I or B)"
                : std::to_string(d.stage) + "F" + std::to_string(d.microbatch);
}

void check_shape(const schedule& s) {
  if (s.ranks < 1 || s.stages < 1 || s.microbatches < 1) {
    throw schedule_error("schedule with ranks = " + std::to_string(s.ranks) + ", stages = " + std::to_string(s.stages) +
                         ", microbatches = " + std::to_string(s.microbatches) + ": each must be >= 1");
  }
  if (static_cast<int>(s.orders.size()) != s.ranks) {
    throw schedule_error("schedule has " + std::to_string(s.orders.size()) + " action lists for " +
                         std::to_string(s.ranks) + " ranks: expected one per rank");
  }
  if (static_cast<int>(s.stage_rank.size()) != s.stages) {
    throw schedule_error("placement names " + std::to_string(s.stage_rank.size()) + " stages for " +
                         std::to_string(s.stages) + ": expected one rank per stage");
  }
  for (int st = 0; st < s.stages; ++st) {
    const int r = s.stage_rank[static_cast<std::size_t>(st)];
    if (r < 0 || r >= s.ranks) {
      throw schedule_error("stage " + std::to_string(st) + " placed on rank " + std::to_string(r) + ": ranks are 0.." +
                           std::to_string(s.ranks - 1));
    }
  }
  for (std::size_t r = 0; r < s.orders.size(); ++r) {
    for (std::size_t i = 0; i < s.orders[r].size(); ++i) {
      const action& a = s.orders[r][i];
      if (a.stage < 0 || a.stage >= s.stages) {
        throw schedule_error(at(r, i, a) + ": stage out of range 0.." + std::to_string(s.stages - 1));
      }
      if (a.microbatch < 0 || a.microbatch >= s.microbatches) {
        throw schedule_error(at(r, i, a) + ": micro-batch out of range 0.." + std::to_string(s.microbatches - 1));
      }
      if (s.stage_rank[static_cast<std::size_t>(a.stage)] != static_cast<int>(r)) {
        throw schedule_error(at(r, i, a) + ": stage " + std::to_string(a.stage) + " is placed on rank " +
                             std::to_string(s.stage_rank[static_cast<std::size_t>(a.stage)]));
      }
    }
  }
}

void check_complete(const schedule& s) {
  const auto mbs = static_cast<std::size_t>(s.microbatches);
  std::vector<int> count(static_cast<std::size_t>(s.stages) * 4 * mbs, 0);
  auto slot = [&](int stage, action_kind k, int mb) -> int& {
    return count[(static_cast<std::size_t>(stage) * 4 + static_cast<std::size_t>(k)) * mbs +
                 static_cast<std::size_t>(mb)];
  };
  for (const auto& order : s.orders) {
    for (const action& a : order) {
      ++slot(a.stage, a.kind, a.microbatch);
    }
  }
  for (int st = 0; st < s.stages; ++st) {
    for (int mb = 0; mb < s.microbatches; ++mb) {
      const std::string which = "stage " + std::to_string(st) + " micro-batch " + std::to_string(mb);
      const int f = slot(st, action_kind::forward, mb);
      const int i = slot(st, action_kind::backward_input, mb);
      const int w = slot(st, action_kind::backward_weight, mb);
      const int b = slot(st, action_kind::backward_full, mb);
      if (f != 1) {
        throw schedule_error(which + " has " + std::to_string(f) + " F: expected exactly one");
      }
      const bool split_ok = b == 0 && i == 1 && w == 1;
      const bool full_ok = b == 1 && i == 0 && w == 0;
      if (!split_ok && !full_ok) {
        throw schedule_error(which + " has " + std::to_string(b) + " B, " + std::to_string(i) + " I and " +
                             std::to_string(w) + " W: expected one B, or one I and one W");
      }
    }
  }
}

// Ranks block on receives, sends are buffered: run every rank as far as its inputs allow until none can move.
void dry_run(const schedule& s) {
  const auto ranks = static_cast<std::size_t>(s.ranks);
  std::vector<std::size_t> pc(ranks, 0);
  std::vector<char> done(static_cast<std::size_t>(s.stages) * 2 * static_cast<std::size_t>(s.microbatches), 0);
  auto key = [&](const dependency& d) { return detail::result_key(d.stage, d.grad, d.microbatch, s.microbatches); };
  auto missing = [&](const action& a, dependency& out) {
    const auto deps = detail::dependencies_of(a, s.stages);
    for (int k = 0; k < deps.count; ++k) {
      if (done[key(deps.items[static_cast<std::size_t>(k)])] == 0) {
        out = deps.items[static_cast<std::size_t>(k)];
        return true;
      }
    }
    return false;
  };
  for (bool moved = true; moved;) {
    moved = false;
    for (std::size_t r = 0; r < ranks; ++r) {
      const auto& order = s.orders[r];
      dependency waits_for;
      while (pc[r] < order.size() && !missing(order[pc[r]], waits_for)) {
        dependency made;
        if (detail::produces(order[pc[r]], made)) {
          done[key(made)] = 1;
        }
        ++pc[r];
        moved = true;
      }
    }
  }
  // Producer of a missing result: where it sits, to tell an order error from a cross-rank wait.
  auto find_producer = [&](const dependency& d, std::size_t& rank, std::size_t& step) {
    for (std::size_t r = 0; r < ranks; ++r) {
      for (std::size_t i = 0; i < s.orders[r].size(); ++i) {
        dependency made;
        if (detail::produces(s.orders[r][i], made) && made.stage == d.stage && made.grad == d.grad &&
            made.microbatch == d.microbatch) {
          rank = r;
          step = i;
          return;
        }
      }
    }
  };
  std::string blocked;
  for (std::size_t r = 0; r < ranks; ++r) {
    if (pc[r] >= s.orders[r].size()) {
      continue;
    }
    const action& a = s.orders[r][pc[r]];
    dependency d;
    missing(a, d);
    std::size_t pr = 0;
    std::size_t ps = 0;
    find_producer(d, pr, ps);
    if (pr == r && ps > pc[r]) {
      throw schedule_error(at(r, pc[r], a) + " runs before its dependency " + describe(d) + ", which rank " +
                           std::to_string(r) + " only runs at step " + std::to_string(ps));
    }
    if (!blocked.empty()) {
      blocked += "; ";
    }
    blocked += at(r, pc[r], a) + " waits for " + describe(d) + " from rank " + std::to_string(pr) + " step " +
               std::to_string(ps);
  }
  if (!blocked.empty()) {
    throw schedule_error("deadlock: " + blocked);
  }
}

}  // namespace

void validate(const schedule& s) {
  check_shape(s);
  check_complete(s);
  dry_run(s);
}

}  // namespace taskpipe::pp
