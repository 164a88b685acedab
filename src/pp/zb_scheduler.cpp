#include "taskpipe/pp/detail/zb_scheduler.hpp"

#include "taskpipe/pp/detail/dependencies.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>

namespace taskpipe::pp::detail {

namespace {

constexpr double unknown = std::numeric_limits<double>::infinity();

class list_scheduler {
 public:
  explicit list_scheduler(const zb_plan& plan)
      : plan_(plan),
        stages_(static_cast<int>(plan.stage_rank.size())),
        ranks_(static_cast<std::size_t>(plan.ranks)),
        finish_(static_cast<std::size_t>(stages_) * 2 * static_cast<std::size_t>(plan.microbatches), unknown),
        next_f_(static_cast<std::size_t>(stages_), 0),
        next_b_(static_cast<std::size_t>(stages_), 0),
        stages_of_(ranks_),
        pending_w_(ranks_),
        held_(ranks_, 0),
        in_forward_(ranks_, 0),
        free_at_(ranks_, 0),
        stalled_(ranks_, false),
        remaining_(ranks_, 0),
        orders_(ranks_) {
    for (int s = 0; s < stages_; ++s) {
      const auto r = static_cast<std::size_t>(plan.stage_rank[static_cast<std::size_t>(s)]);
      stages_of_[r].push_back(s);
      remaining_[r] += 3 * plan.microbatches;
    }
  }

  std::optional<std::vector<std::vector<action>>> run() {
    for (;;) {
      const std::size_t r = pick_rank();
      if (r == ranks_) {
        return std::move(orders_);
      }
      if (!step(r)) {
        return std::nullopt;
      }
    }
  }

 private:
  // The free rank with the earliest time; a rank that stalled at that time goes after the others that have not yet
  // decided, since their choice may be what it waits for.
  std::size_t pick_rank() const {
    std::size_t best = ranks_;
    for (std::size_t r = 0; r < ranks_; ++r) {
      if (remaining_[r] == 0) {
        continue;
      }
      if (best == ranks_ || free_at_[r] < free_at_[best] ||
          (free_at_[r] == free_at_[best] && !stalled_[r] && stalled_[best])) {
        best = r;
      }
    }
    return best;
  }

  double arrival(const dependency& d, std::size_t consumer_rank) const {
    const double t = finish_[result_key(d.stage, d.grad, d.microbatch, plan_.microbatches)];
    if (t == unknown) {
      return unknown;
    }
    const bool remote = plan_.stage_rank[static_cast<std::size_t>(d.stage)] != static_cast<int>(consumer_rank);
    return t + (remote ? plan_.planning.comm : 0.0);
  }

  double ready_time(const action& a, std::size_t r) const {
    const auto deps = dependencies_of(a, stages_);
    double t = 0;
    for (int k = 0; k < deps.count; ++k) {
      t = std::max(t, arrival(deps.items[static_cast<std::size_t>(k)], r));
    }
    return t;
  }

  void emit(std::size_t r, const action& a, double start) {
    const double end = start + plan_.planning.duration(a);
    dependency made;
    if (produces(a, made)) {
      finish_[result_key(made.stage, made.grad, made.microbatch, plan_.microbatches)] = end;
    }
    orders_[r].push_back(a);
    free_at_[r] = end;
    --remaining_[r];
    std::fill(stalled_.begin(), stalled_.end(), false);
  }

  // False when the scheduler can make no more progress (it then has no schedule to offer).
  bool step(std::size_t r) {
    const double t = free_at_[r];
    double next_arrival = unknown;
    // Backward for the input gradient first: it is on the critical path back to stage 0.
    int best_b = -1;
    double best_b_time = unknown;
    for (const int s : stages_of_[r]) {
      const int mb = next_b_[static_cast<std::size_t>(s)];
      if (mb >= plan_.microbatches) {
        continue;
      }
      const double rt = ready_time({s, action_kind::backward_input, mb}, r);
      if (rt < best_b_time) {
        best_b_time = rt;
        best_b = s;
      }
    }
    if (best_b >= 0 && best_b_time <= t) {
      const int mb = next_b_[static_cast<std::size_t>(best_b)]++;
      --in_forward_[r];
      emit(r, {best_b, action_kind::backward_input, mb}, t);
      pending_w_[r].push_back({best_b, action_kind::backward_weight, mb});
      return true;
    }
    next_arrival = std::min(next_arrival, best_b_time);
    // Then a forward, deepest stage first so micro-batches reach the loss (and start their backward) sooner.
    const bool room = in_forward_[r] < plan_.forward_limit[r] && held_[r] < plan_.memory_limit[r];
    int best_f = -1;
    for (const int s : stages_of_[r]) {
      const int mb = next_f_[static_cast<std::size_t>(s)];
      if (mb >= plan_.microbatches || !room) {
        continue;
      }
      const double rt = ready_time({s, action_kind::forward, mb}, r);
      if (rt <= t) {
        if (best_f < s) {
          best_f = s;
        }
      } else {
        next_arrival = std::min(next_arrival, rt);
      }
    }
    if (best_f >= 0) {
      const int mb = next_f_[static_cast<std::size_t>(best_f)]++;
      ++held_[r];
      ++in_forward_[r];
      emit(r, {best_f, action_kind::forward, mb}, t);
      return true;
    }
    // A weight gradient fills the bubble (and frees its activation).
    if (!pending_w_[r].empty()) {
      const action w = pending_w_[r].front();
      const bool fits = t + plan_.planning.duration(w) <= next_arrival;
      if (!plan_.w_only_if_it_fits || fits || !room || next_arrival == unknown) {
        pending_w_[r].pop_front();
        --held_[r];
        emit(r, w, t);
        return true;
      }
    }
    return wait(r, t, next_arrival);
  }

  bool wait(std::size_t r, double t, double next_arrival) {
    bool others_undecided = false;
    double next_free = unknown;
    for (std::size_t o = 0; o < ranks_; ++o) {
      if (o == r || remaining_[o] == 0) {
        continue;
      }
      if (free_at_[o] == t && !stalled_[o]) {
        others_undecided = true;
      }
      if (free_at_[o] > t) {
        next_free = std::min(next_free, free_at_[o]);
      }
    }
    if (others_undecided) {
      stalled_[r] = true;
      return true;
    }
    const double next = std::min(next_arrival, next_free);
    if (next == unknown) {
      return false;
    }
    free_at_[r] = next;
    stalled_[r] = false;
    return true;
  }

  const zb_plan& plan_;
  int stages_;
  std::size_t ranks_;
  std::vector<double> finish_;
  std::vector<int> next_f_;
  std::vector<int> next_b_;
  std::vector<std::vector<int>> stages_of_;
  std::vector<std::deque<action>> pending_w_;
  std::vector<int> held_;        // activations from F until W
  std::vector<int> in_forward_;  // activations from F until I: the part the ZB paper's memory bound is about
  std::vector<double> free_at_;
  std::vector<bool> stalled_;
  std::vector<int> remaining_;
  std::vector<std::vector<action>> orders_;
};

}  // namespace

std::optional<std::vector<std::vector<action>>> zb_list_schedule(const zb_plan& plan) {
  return list_scheduler(plan).run();
}

}  // namespace taskpipe::pp::detail
