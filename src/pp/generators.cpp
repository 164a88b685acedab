#include "taskpipe/pp/generators.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/pp/detail/zero_bubble.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace taskpipe::pp {

namespace {

constexpr std::array kinds{kind::gpipe, kind::one_f_one_b, kind::interleaved, kind::zb_h1,
                           kind::zb_h2, kind::zb_v,        kind::zb_auto,     kind::dualpipe_v};

[[noreturn]] void refuse(const std::string& what) { throw invalid_argument(what); }

std::string prefix(kind k) { return std::string(kind_name(k)) + ": "; }

void check_options(kind k, const schedule_options& o) {
  if (o.ranks < 1) {
    refuse(prefix(k) + "ranks = " + std::to_string(o.ranks) + ": must be >= 1");
  }
  if (o.microbatches < 1) {
    refuse(prefix(k) + "microbatches = " + std::to_string(o.microbatches) + ": must be >= 1");
  }
  if (k != kind::gpipe && k != kind::interleaved && o.microbatches < o.ranks) {
    refuse(prefix(k) + "microbatches = " + std::to_string(o.microbatches) + " is too few for " +
           std::to_string(o.ranks) + " ranks: needs microbatches >= ranks");
  }
  int chunks = 1;
  if (k == kind::interleaved) {
    chunks = o.chunks;
    if (chunks < 2) {
      refuse(prefix(k) + "chunks = " + std::to_string(chunks) + ": must be >= 2 (1 is plain 1f1b)");
    }
    if (o.microbatches % o.ranks != 0) {
      refuse(prefix(k) + "microbatches = " + std::to_string(o.microbatches) +
             " must be a multiple of ranks = " + std::to_string(o.ranks) + " (the interleaving rule)");
    }
  }
  if (k == kind::dualpipe_v && o.microbatches < 2 * o.ranks) {
    refuse(prefix(k) + "microbatches = " + std::to_string(o.microbatches) + " is too few for " +
           std::to_string(o.ranks) + " ranks: needs microbatches >= 2 x ranks (one per stage of the V)");
  }
  if (k == kind::zb_v || k == kind::dualpipe_v) {
    chunks = 2;
  }
  if (o.layers < 0) {
    refuse(prefix(k) + "layers = " + std::to_string(o.layers) + ": must be >= 0 (0: not checked)");
  }
  if (o.layers > 0 && o.layers % (o.ranks * chunks) != 0) {
    refuse(prefix(k) + "layers = " + std::to_string(o.layers) + " does not divide into " + std::to_string(o.ranks) +
           " ranks x " + std::to_string(chunks) + " chunks: layers must be a multiple of ranks x chunks");
  }
  if (o.memory_limit < 0) {
    refuse(prefix(k) + "memory_limit = " + std::to_string(o.memory_limit) + ": must be >= 1 (0: the default)");
  }
}

schedule shell(kind k, const schedule_options& o, std::vector<int> placement) {
  schedule s;
  s.name = std::string(kind_name(k));
  s.ranks = o.ranks;
  s.stages = static_cast<int>(placement.size());
  s.microbatches = o.microbatches;
  s.stage_rank = std::move(placement);
  s.orders.resize(static_cast<std::size_t>(o.ranks));
  return s;
}

schedule gpipe(const schedule_options& o) {
  schedule s = shell(kind::gpipe, o, linear_placement(o.ranks));
  for (int r = 0; r < o.ranks; ++r) {
    auto& order = s.orders[static_cast<std::size_t>(r)];
    for (int mb = 0; mb < o.microbatches; ++mb) {
      order.push_back({r, action_kind::forward, mb});
    }
    for (int mb = 0; mb < o.microbatches; ++mb) {
      order.push_back({r, action_kind::backward_full, mb});
    }
  }
  return s;
}

schedule one_f_one_b(const schedule_options& o) {
  schedule s = shell(kind::one_f_one_b, o, linear_placement(o.ranks));
  const int m = o.microbatches;
  for (int r = 0; r < o.ranks; ++r) {
    auto& order = s.orders[static_cast<std::size_t>(r)];
    const int warmup = std::min(o.ranks - r - 1, m);
    for (int mb = 0; mb < warmup; ++mb) {
      order.push_back({r, action_kind::forward, mb});
    }
    for (int i = 0; i + warmup < m; ++i) {
      order.push_back({r, action_kind::forward, warmup + i});
      order.push_back({r, action_kind::backward_full, i});
    }
    for (int mb = m - warmup; mb < m; ++mb) {
      order.push_back({r, action_kind::backward_full, mb});
    }
  }
  return s;
}

// Megatron's interleaved 1F1B: micro-batches go through the chunks in groups of p; rank r warms up with
// 2(p - r - 1) + (v - 1)p forwards, then alternates one forward and one backward.
schedule interleaved(const schedule_options& o) {
  const int p = o.ranks;
  const int v = o.chunks;
  schedule s = shell(kind::interleaved, o, looped_placement(p, v));
  const int total = o.microbatches * v;
  auto unit = [&](int k, bool forward, int r) {
    const int group = k % (p * v);
    const int chunk = forward ? group / p : v - 1 - group / p;
    const int mb = (k / (p * v)) * p + k % p;
    return action{chunk * p + r, forward ? action_kind::forward : action_kind::backward_full, mb};
  };
  for (int r = 0; r < p; ++r) {
    auto& order = s.orders[static_cast<std::size_t>(r)];
    const int warmup = std::min((p - r - 1) * 2 + (v - 1) * p, total);
    for (int k = 0; k < warmup; ++k) {
      order.push_back(unit(k, true, r));
    }
    for (int i = 0; i + warmup < total; ++i) {
      order.push_back(unit(warmup + i, true, r));
      order.push_back(unit(i, false, r));
    }
    for (int k = total - warmup; k < total; ++k) {
      order.push_back(unit(k, false, r));
    }
  }
  return s;
}

}  // namespace

std::span<const kind> all_kinds() noexcept { return kinds; }

std::string_view kind_name(kind k) noexcept {
  switch (k) {
    case kind::gpipe:
      return "gpipe";
    case kind::one_f_one_b:
      return "1f1b";
    case kind::interleaved:
      return "interleaved";
    case kind::zb_h1:
      return "zb-h1";
    case kind::zb_h2:
      return "zb-h2";
    case kind::zb_v:
      return "zb-v";
    case kind::zb_auto:
      return "zb-auto";
    case kind::dualpipe_v:
      return "dualpipe-v";
  }
  return "?";
}

kind parse_kind(std::string_view name) {
  std::string normal(name);
  std::replace(normal.begin(), normal.end(), '_', '-');
  std::string known;
  for (const kind k : kinds) {
    if (normal == kind_name(k)) {
      return k;
    }
    known += (known.empty() ? "" : ", ") + std::string(kind_name(k));
  }
  throw invalid_argument("unknown schedule kind '" + std::string(name) + "': expected one of " + known);
}

schedule make_schedule(kind k, const schedule_options& options) {
  check_options(k, options);
  switch (k) {
    case kind::gpipe:
      return gpipe(options);
    case kind::one_f_one_b:
      return one_f_one_b(options);
    case kind::interleaved:
      return interleaved(options);
    default:
      return detail::make_zero_bubble(k, options);
  }
}

}  // namespace taskpipe::pp
