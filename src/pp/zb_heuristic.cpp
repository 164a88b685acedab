#include "taskpipe/pp/detail/zb_heuristic.hpp"

#include "taskpipe/pp/detail/memory_units.hpp"

#include <algorithm>
#include <cstddef>

namespace taskpipe::pp::detail {

namespace {

constexpr int kinds = 3;  // F, I, W: the paper's F, B, W
constexpr int fwd = 0;
constexpr int bwd = 1;
constexpr int wgt = 2;

// Thrown inside a run when a variant cannot go on (a memory limit it cannot meet, a producer it has not placed);
// caught by zb_heuristic, which then reports that the variant has no schedule.
struct variant_failed {};

class heuristic_run {
 public:
  heuristic_run(const zb_heuristic_plan& plan, const zb_heuristic_variant& v)
      : plan_(plan),
        v_(v),
        p_(plan.ranks),
        m_(plan.microbatches),
        count_(z(p_) * z(kinds), 0),
        finish_(z(p_) * z(kinds) * z(m_), -1.0),
        clock_(static_cast<std::size_t>(p_), 0.0),
        memory_(static_cast<std::size_t>(p_), 0.0),
        bubble_(static_cast<std::size_t>(p_), 0.0),
        orders_(static_cast<std::size_t>(p_)) {}

  rank_orders run() {
    warm_up();
    for (int i = 1; i < m_; ++i) {
      steady_step(i);
    }
    for (int j = 0; j < p_; ++j) {
      while (n(j, wgt) < m_) {
        put(j, wgt);
      }
    }
    return std::move(orders_);
  }

 private:
  static std::size_t z(int v) { return static_cast<std::size_t>(v); }
  int& n(int j, int kind) { return count_[z(j) * z(kinds) + z(kind)]; }
  double& t(int j, int kind, int mb) { return finish_[(z(j) * z(kinds) + z(kind)) * z(m_) + z(mb)]; }
  double& clock(int j) { return clock_[static_cast<std::size_t>(j)]; }
  double& mem(int j) { return memory_[static_cast<std::size_t>(j)]; }

  double cost(int j, int kind) const {
    const stage_cost& c = plan_.planning.at(j);
    return kind == fwd ? c.f : kind == bwd ? c.b : c.w;
  }
  double mem_delta(int j, int kind) const {
    const activation_weight a = weight_of(plan_.planning.at(j));
    return kind == fwd ? a.held : kind == bwd ? -(a.held - a.w_part) : -a.w_part;
  }
  double limit(int j) const { return plan_.memory_limit * weight_of(plan_.planning.at(j)).held; }
  double comm() const { return plan_.planning.comm; }
  double max_bubble() const { return *std::max_element(bubble_.begin(), bubble_.end()); }
  double slack(int j) const { return max_bubble() - bubble_[static_cast<std::size_t>(j)]; }

  // The finish time of a producer on another rank; a variant that would consume what was not yet produced fails.
  double produced(int j, int kind, int mb) {
    const double at = t(j, kind, mb);
    if (at < 0) {
      throw variant_failed{};
    }
    return at;
  }

  void put(int j, int kind) {
    const int mb = n(j, kind);
    if (mb >= m_) {
      throw variant_failed{};
    }
    const double alone = clock(j) + cost(j, kind);
    double end = alone;
    if (kind == fwd && j > 0) {
      end = std::max(end, produced(j - 1, fwd, mb) + comm() + cost(j, kind));
    }
    if (kind == bwd && j + 1 < p_) {
      end = std::max(end, produced(j + 1, bwd, mb) + comm() + cost(j, kind));
    }
    if (n(j, fwd) > 0) {
      bubble_[static_cast<std::size_t>(j)] += end - alone;
    }
    clock(j) = end;
    t(j, kind, mb) = end;
    mem(j) += mem_delta(j, kind);
    ++n(j, kind);
    const action_kind k = kind == fwd   ? action_kind::forward
                          : kind == bwd ? action_kind::backward_input
                                        : action_kind::backward_weight;
    orders_[static_cast<std::size_t>(j)].push_back({j, k, mb});
  }

  // Before an F or I that waits for `arrival`, run the W's that fit into the wait, and one more W when the wait is
  // within the bubble the worst rank already has (or, when it is longer, always: the wait is lost anyway).
  void fill_wait(int j, double arrival) {
    while (n(j, wgt) < n(j, bwd) && clock(j) + cost(j, wgt) <= arrival) {
      put(j, wgt);
    }
    if (n(j, wgt) < n(j, bwd) && clock(j) < arrival) {
      if (arrival - clock(j) > slack(j) || v_.no_bubble_greedy) {
        put(j, wgt);
      }
    }
  }

  void make_room(int j, int kind) {
    while (mem(j) + mem_delta(j, kind) > limit(j) + 1e-9 * limit(j)) {
      if (n(j, wgt) >= n(j, bwd)) {
        throw variant_failed{};
      }
      put(j, wgt);
    }
  }

  // Micro-batch 0: one F everywhere, then on each rank as many more F's as fit before the first I comes back,
  // estimated from the last rank upwards, each rank doing fewer than the one before it.
  void warm_up() {
    for (int j = 0; j < p_; ++j) {
      make_room(j, fwd);
      put(j, fwd);
    }
    std::vector<int> extra(static_cast<std::size_t>(p_), 0);
    double back = 0;  // when rank j's first I could finish
    for (int j = p_ - 1; j >= 0; --j) {
      if (j == p_ - 1) {
        back = t(j, fwd, 0) + cost(j, bwd);
        continue;
      }
      double level = mem(j);
      double busy_until = clock(j);
      int& e = extra[static_cast<std::size_t>(j)];
      while (n(j, fwd) + e < m_ && level + mem_delta(j, fwd) <= limit(j) + 1e-9 * limit(j)) {
        const bool overruns =
            v_.allow_bubble_before_first_b ? busy_until + cost(j, fwd) > back + comm() : busy_until >= back + comm();
        if (overruns) {
          break;
        }
        level += mem_delta(j, fwd);
        busy_until += cost(j, fwd);
        ++e;
      }
      back = std::max(busy_until, back + comm()) + cost(j, bwd);
    }
    for (int j = 1; j < p_; ++j) {
      int& e = extra[static_cast<std::size_t>(j)];
      while (e > 0 && e >= extra[static_cast<std::size_t>(j - 1)] && n(j, fwd) + e < m_) {
        --e;
      }
    }
    for (int j = 0; j < p_; ++j) {
      for (int k = 0; k < extra[static_cast<std::size_t>(j)]; ++k) {
        make_room(j, fwd);
        put(j, fwd);
      }
    }
    for (int j = p_ - 1; j >= 0; --j) {
      put(j, bwd);
    }
  }

  // Whether rank j should run its next F now: with prioritize_b, not when the F would delay the moment rank j + 1
  // can hand back its next gradient, unless the delay is within the slack.
  bool wants_forward(int j) {
    if (n(j, fwd) >= m_) {
      return false;
    }
    if (!v_.prioritize_b || j + 1 >= p_ || n(j, fwd) < n(j + 1, fwd) + 2) {
      return true;
    }
    const double next_back = clock(j + 1) + cost(j + 1, fwd) + cost(j + 1, bwd) + comm();
    if (clock(j) >= next_back) {
      return false;
    }
    double w_time = 0;
    double level = mem(j) + mem_delta(j, fwd);
    for (int k = n(j, wgt); level > limit(j) + 1e-9 * limit(j) && k < n(j, bwd); ++k) {
      w_time += cost(j, wgt);
      level += mem_delta(j, wgt);
    }
    if (clock(j) + cost(j, fwd) + w_time <= next_back) {
      return true;
    }
    return next_back - clock(j) > slack(j);
  }

  void steady_step(int i) {
    std::vector<int> forward(static_cast<std::size_t>(p_), 0);
    for (int j = 0; j < p_; ++j) {
      forward[static_cast<std::size_t>(j)] = wants_forward(j) ? 1 : 0;
    }
    // A rank runs an F only if every later rank does, so no rank runs ahead of the one it feeds.
    for (int j = p_ - 2; j >= 0; --j) {
      forward[static_cast<std::size_t>(j)] =
          std::min(forward[static_cast<std::size_t>(j)], forward[static_cast<std::size_t>(j) + 1]);
    }
    for (int j = 0; j < p_; ++j) {
      if (forward[static_cast<std::size_t>(j)] == 0) {
        continue;
      }
      make_room(j, fwd);
      if (j > 0) {
        fill_wait(j, produced(j - 1, fwd, n(j, fwd)) + comm());
      }
      put(j, fwd);
    }
    for (int j = p_ - 1; j >= 0; --j) {
      if (n(j, bwd) != i) {
        throw variant_failed{};
      }
      make_room(j, bwd);
      if (j + 1 < p_) {
        fill_wait(j, produced(j + 1, bwd, i) + comm());
      }
      if (j == 0 && n(j, fwd) == m_) {
        while (n(j, wgt) < n(j, bwd)) {
          put(j, wgt);
        }
      }
      put(j, bwd);
    }
  }

  const zb_heuristic_plan& plan_;
  zb_heuristic_variant v_;
  int p_;
  int m_;
  std::vector<int> count_;
  std::vector<double> finish_;
  std::vector<double> clock_;
  std::vector<double> memory_;
  std::vector<double> bubble_;
  rank_orders orders_;
};

}  // namespace

std::optional<rank_orders> zb_heuristic(const zb_heuristic_plan& plan, const zb_heuristic_variant& variant) {
  try {
    return heuristic_run(plan, variant).run();
  } catch (const variant_failed&) {
    return std::nullopt;
  }
}

}  // namespace taskpipe::pp::detail
