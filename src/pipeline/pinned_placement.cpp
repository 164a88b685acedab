// Placing a chain's stages on the pinned strategy's thread budget (see detail/pinned_placement.hpp).
#include "taskpipe/pipeline/detail/pinned_placement.hpp"

#include <algorithm>
#include <cmath>

namespace taskpipe::detail {
namespace {

bool all_parallel(const pinned_segment& s, const std::vector<bool>& serial) {
  for (std::size_t i = s.first; i <= s.last; ++i) {
    if (serial[i]) {
      return false;
    }
  }
  return true;
}

// The greedy cut for bottleneck b; empty when it needs more than `budget` threads.
std::vector<pinned_segment> cut(const std::vector<double>& cost, const std::vector<bool>& serial, double b,
                                std::size_t budget, std::size_t cap) {
  const double limit = b * (1 + 1e-9);
  std::vector<pinned_segment> segs;
  pinned_segment cur{0, 0, 1, cost[0]};
  bool cur_parallel = !serial[0];
  std::size_t used = 0;
  auto close = [&]() -> bool {
    if (cur_parallel) {
      cur.threads = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(cur.cost / limit)));
      if (cur.threads > cap) {
        return false;
      }
    } else if (cur.cost > limit) {
      return false;
    }
    used += cur.threads;
    segs.push_back(cur);
    return used <= budget;
  };
  for (std::size_t k = 1; k < cost.size(); ++k) {
    if (cur_parallel && !serial[k]) {
      cur.cost += cost[k];
      cur.last = k;
    } else if (cur.cost + cost[k] <= limit) {
      cur.cost += cost[k];
      cur.last = k;
      cur_parallel = cur_parallel && !serial[k];
    } else {
      if (!close()) {
        return {};
      }
      cur = {k, k, 1, cost[k]};
      cur_parallel = !serial[k];
    }
  }
  if (!close()) {
    return {};
  }
  return segs;
}

void give_spare(std::vector<pinned_segment>& segs, const std::vector<bool>& serial, std::size_t budget,
                std::size_t cap) {
  std::size_t used = 0;
  for (const auto& s : segs) {
    used += s.threads;
  }
  for (; used < budget; ++used) {
    pinned_segment* best = nullptr;
    for (auto& s : segs) {
      if (s.threads < cap && all_parallel(s, serial) &&
          (best == nullptr ||
           s.cost * static_cast<double>(best->threads) > best->cost * static_cast<double>(s.threads))) {
        best = &s;
      }
    }
    if (best == nullptr) {
      return;
    }
    ++best->threads;
  }
}

double bottleneck(const std::vector<pinned_segment>& segs) {
  double b = 0;
  for (const auto& s : segs) {
    b = std::max(b, s.cost / static_cast<double>(std::max<std::size_t>(s.threads, 1)));
  }
  return b;
}

// The helped placement (see the header), or empty where it does not apply: more serial runs than threads, no parallel
// stage, or a thread for every run (then the fused placement fuses nothing it need not).
std::vector<pinned_segment> helped(const std::vector<double>& cost, const std::vector<bool>& serial, std::size_t budget,
                                   double& bound) {
  std::vector<pinned_segment> segs;
  std::size_t homes = 0;
  double heaviest_serial = 0;
  double total = 0;
  for (std::size_t i = 0; i < cost.size(); ++i) {
    total += cost[i];
    if (segs.empty() || serial[i] != serial[segs.back().first]) {
      segs.push_back({i, i, serial[i] ? std::size_t{1} : std::size_t{0}, cost[i], !serial[i]});
      homes += serial[i] ? 1U : 0U;
    } else {
      segs.back().last = i;
      segs.back().cost += cost[i];
    }
    if (serial[i]) {
      heaviest_serial = std::max(heaviest_serial, segs.back().cost);
    }
  }
  if (homes > budget || homes == segs.size() || budget >= segs.size()) {
    return {};
  }
  for (std::size_t spare = budget - homes; spare > 0; --spare) {  // to the helped segment with most cost per thread
    pinned_segment* best = nullptr;
    for (auto& s : segs) {
      if (!serial[s.first] && (best == nullptr || s.cost * static_cast<double>(best->threads + 1) >
                                                      best->cost * static_cast<double>(s.threads + 1))) {
        best = &s;
      }
    }
    ++best->threads;
  }
  bound = std::max(heaviest_serial, total / static_cast<double>(budget));
  return segs;
}

std::vector<pinned_segment> place_fused(const std::vector<double>& cost, const std::vector<bool>& serial,
                                        std::size_t budget, std::size_t width_cap) {
  const std::size_t n = cost.size();
  budget = std::max<std::size_t>(budget, 1);
  const std::size_t cap = width_cap == 0 ? budget : std::min(width_cap, budget);
  std::vector<pinned_segment> segs;
  if (n == 0) {
    return segs;
  }
  if (budget >= n) {
    for (std::size_t i = 0; i < n; ++i) {
      segs.push_back({i, i, 1, cost[i]});
    }
    give_spare(segs, serial, budget, cap);
    return segs;
  }
  double total = 0;
  double lo = 0;
  for (std::size_t i = 0; i < n; ++i) {
    total += cost[i];
    if (serial[i]) {
      lo = std::max(lo, cost[i]);
    }
  }
  lo = std::max(lo, total / static_cast<double>(budget));
  double hi = std::max(total, lo);
  segs = cut(cost, serial, hi, budget, cap);  // one thread for everything fits any budget
  if (!(lo < hi) || segs.empty()) {
    if (segs.empty()) {  // costs of 0 everywhere: one segment
      segs = {{0, n - 1, 1, total}};
    }
    give_spare(segs, serial, budget, cap);
    return segs;
  }
  if (auto at_lo = cut(cost, serial, lo, budget, cap); !at_lo.empty()) {
    segs = std::move(at_lo);
  } else {
    for (int it = 0; it < 60 && hi - lo > 1e-9 * hi; ++it) {
      const double mid = lo + (hi - lo) / 2;
      if (auto c = cut(cost, serial, mid, budget, cap); !c.empty()) {
        segs = std::move(c);
        hi = mid;
      } else {
        lo = mid;
      }
    }
  }
  give_spare(segs, serial, budget, cap);
  return segs;
}

}  // namespace

std::vector<pinned_segment> place_pinned(const std::vector<double>& cost, const std::vector<bool>& serial,
                                         std::size_t budget, std::size_t width_cap) {
  budget = std::max<std::size_t>(budget, 1);
  auto fused = place_fused(cost, serial, budget, width_cap);
  if (width_cap != 0 && width_cap < budget) {
    return fused;
  }
  double bound = 0;
  auto h = helped(cost, serial, budget, bound);
  if (!h.empty() && bound < 0.9 * bottleneck(fused)) {
    return h;
  }
  return fused;
}

std::string describe_placement(const std::vector<pinned_segment>& segments, const std::vector<std::string>& names) {
  std::string out;
  std::size_t thread = 0;
  std::size_t total = 0;  // every thread helps run the helped segments
  for (const auto& s : segments) {
    total += s.threads;
  }
  for (const auto& s : segments) {
    if (!out.empty()) {
      out += " | ";
    }
    // Appended piece by piece: GCC 12 mis-warns (-Wrestrict) on a literal + std::string in optimised builds.
    for (std::size_t i = s.first; i <= s.last; ++i) {
      if (i != s.first) {
        out += '+';
      }
      if (i < names.size() && !names[i].empty()) {
        out += names[i];
      } else {
        out += '#';
        out += std::to_string(i);
      }
    }
    const std::size_t from = s.helped ? 0 : thread;
    const std::size_t count = s.helped ? total : s.threads;
    out += count == 1 ? ": thread " : ": threads ";
    out += std::to_string(from);
    if (count != 1) {
      out += '-';
      out += std::to_string(from + count - 1);
    }
    if (s.helped) {
      out += " helping";
    }
    thread += s.threads;
  }
  return out;
}

}  // namespace taskpipe::detail
