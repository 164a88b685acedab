#include "taskpipe/pp/detail/memory_units.hpp"
#include "taskpipe/pp/detail/zb_heuristic.hpp"

#include <algorithm>
#include <cstddef>
#include <deque>

namespace taskpipe::pp::detail {

namespace {

// The V, seen from rank i: a pass walks two legs. A forward runs leg 0 on chunk 0 (stage i, fed by rank i - 1) and
// leg 1 on chunk 1 (stage 2p-1-i, fed by rank i + 1); a backward starts where the forward ended, so its leg 0 is chunk
// 1 (fed by rank i - 1) and its leg 1 chunk 0 (fed by rank i + 1). Rank p - 1 turns each pass around locally.
constexpr int fwd = 0;
constexpr int bwd = 1;
constexpr int wgt = 2;
constexpr int slots = 6;  // (kind, leg)
constexpr int max_refinements = 64;

struct variant_failed {};

struct v_result {
  rank_orders orders;
  double max_bubble = 0;
};

class v_run {
 public:
  v_run(const zb_heuristic_plan& plan, const zb_v_variant& v, std::vector<double> approved)
      : plan_(plan),
        v_(v),
        p_(plan.ranks),
        m_(plan.microbatches),
        count_(z(p_) * z(slots), 0),
        finish_(z(slots) * z(p_) * z(m_), -1.0),
        clock_(static_cast<std::size_t>(p_), 0.0),
        memory_(static_cast<std::size_t>(p_), 0.0),
        bubble_(static_cast<std::size_t>(p_), 0.0),
        pending_(static_cast<std::size_t>(p_)),
        orders_(static_cast<std::size_t>(p_)),
        approved_(std::move(approved)) {
    approved_max_ = approved_.empty() ? -1 : *std::max_element(approved_.begin(), approved_.end());
  }

  v_result run() {
    warm_up();
    for (int step = 0; step < 2 * m_; ++step) {
      backward_round();
      forward_round();
    }
    for (int i = 0; i < p_; ++i) {
      while (!pending(i).empty()) {
        put_w(i);
      }
    }
    return {std::move(orders_), max_bubble(-1)};
  }

  const std::vector<double>& bubbles() const { return bubble_; }

 private:
  int stage_of(int kind, int leg, int i) const {
    const bool first_chunk = kind == fwd ? leg == 0 : leg == 1;
    return first_chunk ? i : 2 * p_ - 1 - i;
  }
  static std::size_t z(int v) { return static_cast<std::size_t>(v); }
  int& n(int i, int kind, int leg) { return count_[z(i) * z(slots) + z(kind) * 2 + z(leg)]; }
  double& t(int kind, int leg, int i, int mb) {
    return finish_[((z(kind) * 2 + z(leg)) * z(p_) + z(i)) * z(m_) + z(mb)];
  }
  double finished(int kind, int leg, int i, int mb) { return mb < m_ ? t(kind, leg, i, mb) : -1.0; }
  double& clock(int i) { return clock_[static_cast<std::size_t>(i)]; }
  double& mem(int i) { return memory_[static_cast<std::size_t>(i)]; }
  std::deque<int>& pending(int i) { return pending_[static_cast<std::size_t>(i)]; }
  double comm() const { return plan_.planning.comm; }

  double cost(int kind, int leg, int i) const {
    const stage_cost& c = plan_.planning.at(stage_of(kind, leg, i));
    return kind == fwd ? c.f : kind == bwd ? c.b : c.w;
  }
  double mem_delta(int kind, int leg, int i) const {
    const activation_weight a = weight_of(plan_.planning.at(stage_of(kind, leg, i)));
    return kind == fwd ? a.held : kind == bwd ? -(a.held - a.w_part) : -a.w_part;
  }
  double limit(int i) const {
    const double unit = weight_of(plan_.planning.at(i)).held + weight_of(plan_.planning.at(2 * p_ - 1 - i)).held;
    return plan_.memory_limit * unit * (1 + 1e-9);
  }
  double max_bubble(int i) const {
    double out = *std::max_element(bubble_.begin(), bubble_.end());
    if (i >= 0 && !approved_.empty()) {
      out = std::max(out, approved_max_ - approved_[static_cast<std::size_t>(i)]);
    }
    return out;
  }
  double slack(int i) const { return max_bubble(i) - bubble_[static_cast<std::size_t>(i)]; }

  void put(int kind, int leg, int i) {
    const int mb = n(i, kind, leg);
    if (mb >= m_ || mem(i) + mem_delta(kind, leg, i) > limit(i)) {
      throw variant_failed{};
    }
    // The same micro-batch's previous step on this rank must already be in the order.
    if (kind == wgt) {
      if (t(bwd, leg, i, mb) < 0) {
        throw variant_failed{};
      }
    } else if (kind > 0 || leg > 0) {
      const int prev = kind * 2 + leg - 1;
      if (t(prev / 2, prev % 2, i, mb) < 0) {
        throw variant_failed{};
      }
    }
    const double alone = clock(i) + cost(kind, leg, i);
    double end = alone;
    if (kind != wgt) {
      const int from = leg == 0 ? i - 1 : i + 1;
      if (from >= 0 && from < p_) {
        const double at = t(kind, leg, from, mb);
        if (at < 0) {
          throw variant_failed{};
        }
        end = std::max(end, at + comm() + cost(kind, leg, i));
      }
    }
    if (n(i, fwd, 0) > 0) {
      bubble_[static_cast<std::size_t>(i)] += end - alone;
    }
    clock(i) = end;
    t(kind, leg, i, mb) = end;
    mem(i) += mem_delta(kind, leg, i);
    ++n(i, kind, leg);
    if (kind == bwd) {
      pending(i).push_back(leg);
    }
    const action_kind k = kind == fwd   ? action_kind::forward
                          : kind == bwd ? action_kind::backward_input
                                        : action_kind::backward_weight;
    orders_[static_cast<std::size_t>(i)].push_back({stage_of(kind, leg, i), k, mb});
  }

  void put_w(int i) {
    if (pending(i).empty()) {
      throw variant_failed{};
    }
    const int leg = pending(i).front();
    pending(i).pop_front();
    put(wgt, leg, i);
  }

  // Before an action that waits for `arrival` (negative: nothing to wait for), W's that fit in the wait, then one
  // more when the wait exceeds the slack and the caller allows it.
  void fill_wait(int i, double arrival, bool known, bool allowed) {
    while (!pending(i).empty() && known && arrival + comm() >= clock(i) + cost(wgt, pending(i).front(), i)) {
      put_w(i);
    }
    if (!pending(i).empty() && known && arrival + comm() - clock(i) > slack(i) && allowed) {
      put_w(i);
    }
  }

  void warm_up() {
    for (int i = 0; i < p_; ++i) {
      put(fwd, 0, i);
    }
    // From the last rank up: rank i runs chunk-0 forwards (with every rank above it, to keep them fed) while the
    // first chunk-1 forward from rank i + 1 is on its way, reserving room for the V's return trip.
    for (int i = p_ - 1; i >= 0; --i) {
      if (i < p_ - 1) {
        const double arrival = t(fwd, 1, i + 1, 0) + comm();
        const double reserve = mem_delta(fwd, 0, i) * (2 + 2 * i);
        while (mem(i) + reserve <= limit(i) && clock(i) + cost(fwd, 0, i) <= arrival && n(i, fwd, 0) < m_ - i) {
          for (int j = 0; j <= i; ++j) {
            put(fwd, 0, j);
          }
        }
      }
      put(fwd, 1, i);
    }
    // Ranks below the first catch up with the one before them, alternating chunks from the last rank inwards.
    int leg = 0;
    for (int i = 1; i < p_; ++i) {
      for (int guard = 0; guard < 4 * m_ + 4; ++guard) {
        const int mine = n(i, fwd, 0) + n(i, fwd, 1);
        const int before = n(i - 1, fwd, 0) + n(i - 1, fwd, 1);
        const bool behind = mine < before || (n(i, fwd, 1) <= n(i - 1, fwd, 1) && n(i - 1, fwd, 1) < m_);
        if (!behind) {
          break;
        }
        for (int j = p_ - 1; j >= i; --j) {
          if (n(j, fwd, leg) < m_) {
            put(fwd, leg, j);
          }
        }
        leg = 1 - leg;
      }
    }
  }

  void backward_round() {
    std::vector<int> first_leg;
    std::vector<int> second_leg;
    for (int i = 0; i < p_; ++i) {
      // The second leg when it lags the first and its gradient is there (or the first leg is done).
      const bool second = n(i, bwd, 1) < n(i, bwd, 0) &&
                          (i == p_ - 1 || finished(bwd, 1, i + 1, n(i, bwd, 1)) >= 0 || n(i, bwd, 0) >= m_);
      (second ? second_leg : first_leg).push_back(i);
    }
    std::vector<std::pair<int, int>> order;
    for (auto it = second_leg.rbegin(); it != second_leg.rend(); ++it) {
      order.emplace_back(*it, 1);
    }
    for (const int i : first_leg) {
      order.emplace_back(i, 0);
    }
    for (const auto& [i, leg] : order) {
      const int from = leg == 1 ? i + 1 : i - 1;
      const bool known = from >= 0 && from < p_;
      const double arrival = known ? finished(bwd, leg, from, n(i, bwd, leg)) : -1.0;
      fill_wait(i, arrival, known, leg == 1 || v_.fill_backward_bubbles);
      put(bwd, leg, i);
    }
  }

  void forward_round() {
    for (int i = 0; i < p_; ++i) {
      if (n(i, fwd, 1) >= m_) {
        continue;
      }
      // The second leg when it lags the first and its input is there; else the first leg if it may go on.
      const bool second = n(i, fwd, 1) < n(i, fwd, 0) && (i == p_ - 1 || finished(fwd, 1, i + 1, n(i, fwd, 1)) >= 0);
      const bool first =
          n(i, fwd, 1) >= n(i, fwd, 0) || (n(i, fwd, 0) < m_ && (i == 0 || finished(fwd, 0, i - 1, n(i, fwd, 0)) >= 0));
      if (!second && !first) {
        continue;
      }
      const int leg = second ? 1 : 0;
      while (mem(i) + mem_delta(fwd, leg, i) > limit(i)) {
        put_w(i);
      }
      const int from = leg == 0 ? i - 1 : i + 1;
      const bool known = from >= 0 && from < p_;
      const double arrival = known ? finished(fwd, leg, from, n(i, fwd, leg)) : -1.0;
      fill_wait(i, arrival, known, v_.fill_forward_bubbles);
      put(fwd, leg, i);
    }
  }

  const zb_heuristic_plan& plan_;
  zb_v_variant v_;
  int p_;
  int m_;
  std::vector<int> count_;
  std::vector<double> finish_;
  std::vector<double> clock_;
  std::vector<double> memory_;
  std::vector<double> bubble_;
  std::vector<std::deque<int>> pending_;
  rank_orders orders_;
  std::vector<double> approved_;
  double approved_max_ = -1;
};

// One try, then again with each rank allowed the bubble the others reached, for as long as that lowers the worst
// rank's bubble (the paper's refinement of its V greedy).
std::optional<v_result> attempt(const zb_heuristic_plan& plan, const zb_v_variant& v, std::vector<double> approved,
                                int depth) {
  std::optional<v_result> out;
  std::vector<double> bubbles;
  const double approved_max = approved.empty() ? -1 : *std::max_element(approved.begin(), approved.end());
  try {
    v_run r(plan, v, std::move(approved));
    out = r.run();
    bubbles = r.bubbles();
  } catch (const variant_failed&) {
    return std::nullopt;
  }
  if (depth < max_refinements && (approved_max < 0 || out->max_bubble < approved_max)) {
    auto better = attempt(plan, v, bubbles, depth + 1);
    if (better && better->max_bubble < out->max_bubble) {
      return better;
    }
  }
  return out;
}

}  // namespace

std::optional<rank_orders> zb_v_greedy(const zb_heuristic_plan& plan, const zb_v_variant& variant) {
  auto r = attempt(plan, variant, {}, 0);
  if (!r) {
    return std::nullopt;
  }
  return std::move(r->orders);
}

}  // namespace taskpipe::pp::detail
