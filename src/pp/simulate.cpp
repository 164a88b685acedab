#include "taskpipe/pp/simulate.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/pp/detail/dependencies.hpp"
#include "taskpipe/pp/detail/memory_units.hpp"
#include "taskpipe/pp/validate.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace taskpipe::pp {

namespace {

// One change of a rank's activation memory: in-flight count (F until I/B), count until W, bytes. `order` sorts the
// changes at one time: frees first, so an I or W that ends as the next F starts makes room for it.
struct memory_change {
  double time = 0;
  int until_i = 0;
  int until_w = 0;
  double bytes = 0;
  double units = 0;  // in the rank's M_B once divided by its unit
  int order = 0;
};

void add_memory_changes(const timed_action& ta, const stage_cost& c, std::vector<memory_change>& out) {
  const detail::activation_weight a = detail::weight_of(c);
  // A pass's working memory, held from its start to its finish (before the pass's own changes at its finish).
  const auto working = [&out](double from, double to, double bytes) {
    if (bytes > 0) {
      out.push_back({.time = from, .bytes = bytes, .order = 3});
      out.push_back({.time = to, .bytes = -bytes, .order = -3});
    }
  };
  switch (ta.what.kind) {
    case action_kind::forward:
      out.push_back({ta.start, +1, +1, c.activation_bytes, a.held, 2});
      working(ta.start, ta.finish, c.f_work_bytes);
      return;
    case action_kind::backward_input:  // keeps what W still needs
      out.push_back({ta.finish, -1, 0, -(c.activation_bytes - c.w_bytes), -(a.held - a.w_part), -1});
      working(ta.start, ta.finish, c.b_work_bytes);
      return;
    case action_kind::backward_weight:
      out.push_back({ta.finish, 0, -1, -c.w_bytes, -a.w_part, -1});
      working(ta.start, ta.finish, c.w_work_bytes);
      return;
    case action_kind::backward_full: {  // its I part ends at start + b: the micro-batch then holds w_bytes until W's
                                        // end
      const double i_end = std::min(ta.start + c.b, ta.finish);
      out.push_back({i_end, 0, 0, c.w_bytes - c.activation_bytes, a.w_part - a.held, 0});
      out.push_back({ta.finish, -1, -1, -c.w_bytes, -a.w_part, -2});
      working(ta.start, i_end, c.b_work_bytes);
      working(i_end, ta.finish, c.w_work_bytes);
      return;
    }
  }
}

}  // namespace

simulation::simulation(int ranks, std::vector<timed_action> actions, const costs& c)
    : ranks_(ranks), actions_(std::move(actions)) {
  std::stable_sort(actions_.begin(), actions_.end(),
                   [](const timed_action& a, const timed_action& b) { return a.start < b.start; });
  const auto n = static_cast<std::size_t>(ranks_);
  busy_.assign(n, 0);
  span_.assign(n, 0);
  std::vector<double> first(n, std::numeric_limits<double>::infinity());
  peak_count_.assign(n, 0);
  peak_until_w_.assign(n, 0);
  peak_bytes_.assign(n, 0);
  peak_memory_.assign(n, 0);
  std::vector<std::vector<memory_change>> changes(n);
  // A rank's M_B: the activations of all the stages it holds, for one micro-batch.
  std::vector<double> unit(n, 0);
  std::vector<std::vector<bool>> seen(n);
  for (const auto& ta : actions_) {
    const auto r = static_cast<std::size_t>(ta.rank);
    makespan_ = std::max(makespan_, ta.finish);
    busy_[r] += ta.finish - ta.start;
    first[r] = std::min(first[r], ta.start);
    span_[r] = std::max(span_[r], ta.finish - first[r]);
    add_memory_changes(ta, c.at(ta.what.stage), changes[r]);
    if (ta.what.kind == action_kind::forward) {
      auto& s = seen[r];
      const auto st = static_cast<std::size_t>(ta.what.stage);
      if (s.size() <= st) {
        s.resize(st + 1, false);
      }
      if (!s[st]) {
        s[st] = true;
        unit[r] += detail::weight_of(c.at(ta.what.stage)).held;
      }
    }
  }
  cost_ = span_.empty() ? 0 : *std::max_element(span_.begin(), span_.end());
  for (std::size_t r = 0; r < n; ++r) {
    std::stable_sort(changes[r].begin(), changes[r].end(), [](const memory_change& a, const memory_change& b) {
      return a.time < b.time || (a.time == b.time && a.order < b.order);
    });
    int until_i = 0;
    int until_w = 0;
    double bytes = 0;
    double units = 0;
    for (const auto& ch : changes[r]) {
      until_i += ch.until_i;
      until_w += ch.until_w;
      bytes += ch.bytes;
      units += ch.units;
      peak_count_[r] = std::max(peak_count_[r], until_i);
      peak_until_w_[r] = std::max(peak_until_w_[r], until_w);
      peak_bytes_[r] = std::max(peak_bytes_[r], bytes);
      peak_memory_[r] = std::max(peak_memory_[r], units);
    }
    if (unit[r] > 0) {
      peak_memory_[r] /= unit[r];
    }
  }
}

void simulation::check_rank(int rank) const {
  if (rank < 0 || rank >= ranks_) {
    throw invalid_argument("rank " + std::to_string(rank) + " out of range 0.." + std::to_string(ranks_ - 1));
  }
}

double simulation::busy(int rank) const {
  check_rank(rank);
  return busy_[static_cast<std::size_t>(rank)];
}

double simulation::idle(int rank) const { return makespan_ - busy(rank); }

double simulation::span(int rank) const {
  check_rank(rank);
  return span_[static_cast<std::size_t>(rank)];
}

double simulation::bubble(int rank) const { return cost_ - busy(rank); }

double simulation::bubble_rate() const noexcept {
  if (cost_ <= 0) {
    return 0;
  }
  double bubble_total = 0;
  for (const double b : busy_) {
    bubble_total += cost_ - b;
  }
  return bubble_total / (static_cast<double>(ranks_) * cost_);
}

double simulation::bubble_rate(optimizer_sync sync) const noexcept {
  if (sync == optimizer_sync::bypassed) {
    return bubble_rate();
  }
  if (makespan_ <= 0) {
    return 0;
  }
  double idle_total = 0;
  for (const double b : busy_) {
    idle_total += makespan_ - b;
  }
  return idle_total / (static_cast<double>(ranks_) * makespan_);
}

double simulation::megatron_bubble() const noexcept {
  double idle_total = 0;
  double busy_total = 0;
  for (const double b : busy_) {
    idle_total += makespan_ - b;
    busy_total += b;
  }
  return busy_total > 0 ? idle_total / busy_total : 0;
}

int simulation::peak_activations(int rank) const {
  check_rank(rank);
  return peak_count_[static_cast<std::size_t>(rank)];
}

int simulation::peak_activations_until_w(int rank) const {
  check_rank(rank);
  return peak_until_w_[static_cast<std::size_t>(rank)];
}

double simulation::peak_activation_bytes(int rank) const {
  check_rank(rank);
  return peak_bytes_[static_cast<std::size_t>(rank)];
}

double simulation::peak_memory(int rank) const {
  check_rank(rank);
  return peak_memory_[static_cast<std::size_t>(rank)];
}

trace::timeline simulation::timeline() const { return make_timeline(ranks_, actions_, 1.0); }

trace::timeline make_timeline(int ranks, const std::vector<timed_action>& actions, double microseconds_per_unit) {
  trace::timeline t;
  t.microseconds_per_unit = microseconds_per_unit;
  for (int r = 0; r < ranks; ++r) {
    t.tracks.push_back("rank " + std::to_string(r));
  }
  for (const auto& ta : actions) {
    trace::event e;
    e.track = ta.rank;
    e.name = to_string(ta.what);
    e.category.assign(1, kind_letter(ta.what.kind));
    // Appending instead of operator+ sidesteps a GCC 12 -Wrestrict false positive in release builds.
    e.label = e.category;
    e.label.append(std::to_string(ta.what.microbatch));
    e.start = ta.start;
    e.duration = ta.finish - ta.start;
    e.args = {{"stage", ta.what.stage}, {"microbatch", ta.what.microbatch}};
    t.events.push_back(std::move(e));
  }
  return t;
}

simulation simulate(const schedule& s, const costs& c) {
  validate(s);
  validate_costs(c);
  const auto mbs = s.microbatches;
  constexpr double unknown = std::numeric_limits<double>::infinity();
  std::vector<double> ready(static_cast<std::size_t>(s.stages) * 2 * static_cast<std::size_t>(mbs), unknown);
  std::vector<std::size_t> pc(static_cast<std::size_t>(s.ranks), 0);
  std::vector<double> free_at(static_cast<std::size_t>(s.ranks), 0);
  std::vector<timed_action> out;
  out.reserve(s.action_count());
  // A validated schedule cannot deadlock, so sweeping the ranks until each has run its list terminates; an action's
  // times depend only on its rank's previous action and its producers, not on the sweep order.
  for (bool moved = true; moved;) {
    moved = false;
    for (std::size_t r = 0; r < pc.size(); ++r) {
      const auto& order = s.orders[r];
      while (pc[r] < order.size()) {
        const action& a = order[pc[r]];
        const auto deps = detail::dependencies_of(a, s.stages);
        double start = free_at[r];
        bool blocked = false;
        for (int k = 0; k < deps.count; ++k) {
          const auto& d = deps.items[static_cast<std::size_t>(k)];
          const double t = ready[detail::result_key(d.stage, d.grad, d.microbatch, mbs)];
          if (t == unknown) {
            blocked = true;
            break;
          }
          const bool remote = s.rank_of(d.stage) != static_cast<int>(r);
          start = std::max(start, t + (remote ? c.comm : 0.0));
        }
        if (blocked) {
          break;
        }
        const double finish = start + c.duration(a);
        detail::dependency made;
        if (detail::produces(a, made)) {
          ready[detail::result_key(made.stage, made.grad, made.microbatch, mbs)] = finish;
        }
        out.push_back({a, static_cast<int>(r), start, finish});
        free_at[r] = finish;
        ++pc[r];
        moved = true;
      }
    }
  }
  return simulation(s.ranks, std::move(out), c);
}

}  // namespace taskpipe::pp
