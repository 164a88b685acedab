#include "taskpipe/pp/detail/zero_bubble.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/pp/detail/handcrafted.hpp"
#include "taskpipe/pp/detail/zb_heuristic.hpp"
#include "taskpipe/pp/detail/zb_scheduler.hpp"
#include "taskpipe/pp/simulate.hpp"
#include "taskpipe/pp/validate.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace taskpipe::pp::detail {

namespace {

schedule with_orders(kind k, const schedule_options& o, std::vector<int> placement, rank_orders orders) {
  schedule s;
  s.name = std::string(kind_name(k));
  s.ranks = o.ranks;
  s.stages = static_cast<int>(placement.size());
  s.microbatches = o.microbatches;
  s.stage_rank = std::move(placement);
  s.orders = std::move(orders);
  return s;
}

// Keeps the best of the candidates offered: valid, within the memory limit (when one is given) on every rank, and
// the shortest iteration under the planning costs; the first one offered wins a tie.
class best_of {
 public:
  best_of(const costs& c, optimizer_sync sync, double memory_limit) : c_(c), sync_(sync), limit_(memory_limit) {}

  void offer(std::optional<schedule> candidate) {
    if (!candidate) {
      return;
    }
    try {
      const simulation sim = simulate(*candidate, c_);  // validates first
      if (limit_ > 0) {
        for (int r = 0; r < sim.ranks(); ++r) {
          if (sim.peak_memory(r) > limit_ * (1 + 1e-9)) {
            lowest_over_ = std::min(lowest_over_, sim.peak_memory(r));
            return;
          }
        }
      }
      const double t = sim.iteration_time(sync_);
      if (!best_ || t < best_time_) {
        best_ = std::move(candidate);
        best_time_ = t;
      }
    } catch (const schedule_error&) {
      // A planner's order that does not validate is not offered to the user; the others stand.
    }
  }

  bool found() const { return best_.has_value(); }
  /// The least peak (in M_B) of the candidates refused for the limit; infinite when none was.
  double lowest_over() const { return lowest_over_; }
  schedule take() { return std::move(*best_); }

 private:
  const costs& c_;
  optimizer_sync sync_;
  double limit_;
  std::optional<schedule> best_;
  double best_time_ = 0;
  double lowest_over_ = 1e300;
};

std::vector<int> per_rank(int p, int (*f)(int p, int r)) {
  std::vector<int> out;
  out.reserve(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    out.push_back(f(p, r));
  }
  return out;
}

schedule zb_h1(const schedule_options& o) {
  // The paper's ZB-H1: 1F1B's warm-up, and rank r starts its W's after r backwards (its Figure 3, top).
  return with_orders(kind::zb_h1, o, linear_placement(o.ranks),
                     delayed_w_order(o.ranks, o.microbatches, per_rank(o.ranks, [](int p, int r) { return p - r - 1; }),
                                     per_rank(o.ranks, [](int, int r) { return r; })));
}

std::optional<schedule> list_scheduled(kind k, const schedule_options& o, const costs& c, std::vector<int> forward,
                                       std::vector<int> held, bool fits) {
  zb_plan plan;
  plan.ranks = o.ranks;
  plan.microbatches = o.microbatches;
  plan.stage_rank = linear_placement(o.ranks);
  plan.planning = c;
  plan.forward_limit = std::move(forward);
  plan.memory_limit = std::move(held);
  plan.w_only_if_it_fits = fits;
  auto orders = zb_list_schedule(plan);
  if (!orders) {
    return std::nullopt;
  }
  return with_orders(k, o, plan.stage_rank, std::move(*orders));
}

schedule zb_h2(const schedule_options& o, const costs& c) {
  const int p = o.ranks;
  // The parallelogram: room for p - r - 1 more forwards in the warm-up fills its bubble. The list scheduler places
  // the W's by the costs; where it cannot (costs it was not built for), the paper's hand-built order stands in.
  auto s = list_scheduled(kind::zb_h2, o, c, per_rank(p, [](int q, int r) { return 2 * (q - r) - 1; }),
                          per_rank(p, [](int q, int) { return 2 * q - 1; }), true);
  best_of best(c, optimizer_sync::bypassed, 0);
  best.offer(std::move(s));
  if (!best.found()) {
    best.offer(with_orders(kind::zb_h2, o, linear_placement(p),
                           delayed_w_order(p, o.microbatches, per_rank(p, [](int q, int r) { return 2 * (q - r - 1); }),
                                           per_rank(p, [](int, int r) { return 2 * r; }))));
  }
  auto out = best.found() ? best.take() : zb_h1(o);
  out.name = std::string(kind_name(kind::zb_h2));
  return out;
}

zb_heuristic_plan heuristic_plan(const schedule_options& o, const costs& c, double limit) {
  zb_heuristic_plan plan;
  plan.ranks = o.ranks;
  plan.microbatches = o.microbatches;
  plan.planning = c;
  plan.memory_limit = limit;
  return plan;
}

schedule zb_v(const schedule_options& o, const costs& c) {
  // The paper's ZB-V greedy at its memory, 1F1B's p whole-stage activations (2p chunk ones), the best of its four
  // variants; its hand-built order (exact when F = B = W) and a V-shaped GPipe if the greedy cannot place one.
  const auto plan = heuristic_plan(o, c, o.ranks);
  best_of best(c, optimizer_sync::bypassed, 0);
  for (const bool fill_b : {true, false}) {
    for (const bool fill_f : {true, false}) {
      auto orders = zb_v_greedy(plan, {.fill_forward_bubbles = fill_f, .fill_backward_bubbles = fill_b});
      if (orders) {
        best.offer(with_orders(kind::zb_v, o, v_placement(o.ranks), std::move(*orders)));
      }
    }
  }
  if (!best.found()) {
    best.offer(with_orders(kind::zb_v, o, v_placement(o.ranks), zb_v_hand_order(o.ranks, o.microbatches)));
  }
  if (!best.found()) {
    best.offer(with_orders(kind::zb_v, o, v_placement(o.ranks), v_gpipe_order(o.ranks, o.microbatches)));
  }
  return best.take();
}

schedule zb_auto(const schedule_options& o, const costs& c) {
  const int p = o.ranks;
  const double limit = o.memory_limit > 0 ? o.memory_limit : 2 * p - 1;
  best_of best(c, o.sync, limit);
  // The paper's heuristic, all eight variants, under the limit in its unit.
  const auto plan = heuristic_plan(o, c, limit);
  for (const bool allow_bubble : {true, false}) {
    for (const bool prioritize_b : {true, false}) {
      for (const bool greedy : {true, false}) {
        auto orders = zb_heuristic(plan, {allow_bubble, prioritize_b, greedy});
        if (orders) {
          best.offer(with_orders(kind::zb_auto, o, linear_placement(p), std::move(*orders)));
        }
      }
    }
  }
  // The hand-built kinds wherever they fit, so zb-auto is never worse than they are at their memory.
  best.offer(zb_h1(o));
  best.offer(zb_h2(o, c));
  best.offer(with_orders(kind::zb_auto, o, linear_placement(p),
                         delayed_w_order(p, o.microbatches, per_rank(p, [](int q, int r) { return q - r - 1; }),
                                         per_rank(p, [](int, int) { return 0; }))));
  // Below 1F1B's memory (where zb-h1 does not fit) the list scheduler under count limits: each held activation counts
  // whole there, so anything it returns is within the limit in the paper's unit too.
  const int cap = std::max(1, static_cast<int>(limit));
  for (int shape = 0; shape < 3 && limit < p; ++shape) {
    std::vector<int> forward;
    std::vector<int> held;
    forward.reserve(static_cast<std::size_t>(p));
    held.reserve(static_cast<std::size_t>(p));
    for (int r = 0; r < p; ++r) {
      forward.push_back(std::clamp(shape == 0 ? cap : shape == 1 ? p - r : 2 * (p - r) - 1, 1, cap));
      held.push_back(std::clamp(shape == 1 ? 2 * p - r - 1 : cap, 1, cap));
    }
    for (const bool fits : {true, false}) {
      best.offer(list_scheduled(kind::zb_auto, o, c, forward, held, fits));
    }
  }
  if (!best.found()) {
    throw invalid_argument("zb-auto: memory_limit = " + std::to_string(o.memory_limit) +
                           " micro-batches of activations per rank is below what any candidate needs (the least was " +
                           std::to_string(best.lowest_over()) + "): raise the limit");
  }
  auto out = best.take();
  out.name = std::string(kind_name(kind::zb_auto));
  return out;
}

}  // namespace

schedule make_zero_bubble(kind k, const schedule_options& o) {
  const costs c = o.planning_costs.value_or(costs::uniform({}));
  validate_costs(c);
  switch (k) {
    case kind::zb_h1:
      return zb_h1(o);
    case kind::zb_h2:
      return zb_h2(o, c);
    case kind::zb_v:
      return zb_v(o, c);
    case kind::dualpipe_v:
      return with_orders(k, o, v_placement(o.ranks), dualpipe_v_order(o.ranks, o.microbatches));
    default:
      return zb_auto(o, c);
  }
}

}  // namespace taskpipe::pp::detail
