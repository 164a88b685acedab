#include "taskpipe/pp/cost_spec.hpp"

#include "taskpipe/detail/quote.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/pp/limits.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace taskpipe::pp {

namespace {

using detail::quote;

std::string number_text(double v) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc{} ? std::string(buf.data(), end) : std::to_string(v);
}

struct key_info {
  std::string_view name;
  double max;
  bool per_stage;
};

// The order of stage_cost's fields, comm last.
constexpr std::array keys{key_info{"f", max_cost_time, true},      key_info{"b", max_cost_time, true},
                          key_info{"w", max_cost_time, true},      key_info{"act", max_cost_bytes, true},
                          key_info{"wact", max_cost_bytes, true},  key_info{"fwork", max_cost_bytes, true},
                          key_info{"bwork", max_cost_bytes, true}, key_info{"wwork", max_cost_bytes, true},
                          key_info{"comm", max_cost_time, false}};
constexpr std::size_t comm_key = keys.size() - 1;

std::optional<std::size_t> key_index(std::string_view key) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].name == key) {
      return i;
    }
  }
  return std::nullopt;
}

double parse_value(const key_info& key, std::string_view item, std::string_view text, std::size_t index,
                   std::size_t count) {
  const std::string which =
      count > 1 ? "value " + std::to_string(index + 1) + " of '" + quote(item) + "'" : "'" + quote(item) + "'";
  if (text.empty()) {
    throw invalid_argument(which + ": empty value: expected a number");
  }
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) {
    v = HUGE_VAL;  // reported by the range check below
  } else if (ec != std::errc{} || end != text.data() + text.size()) {
    throw invalid_argument(which + ": '" + quote(text) + "' is not a number");
  }
  if (!std::isfinite(v) || v < 0 || v > key.max) {
    throw invalid_argument(which + ": " + std::string(key.name) + " must be in [0, " + number_text(key.max) + "]");
  }
  return v;
}

std::string key_list() {
  std::string out;
  for (const auto& k : keys) {
    out += (out.empty() ? "" : ", ") + std::string(k.name);
  }
  return out;
}

}  // namespace

costs parse_cost_spec(std::string_view spec) {
  std::array<std::vector<double>, keys.size()> values{std::vector<double>{1}, {1}, {1}, {0}, {0}, {0}, {0}, {0}, {0}};
  std::array<bool, keys.size()> given{};
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string_view item = spec.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) {
      continue;
    }
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw invalid_argument("'" + quote(item) + "' is not key=value: expected keys " + key_list());
    }
    const std::string_view key = item.substr(0, eq);
    const auto ki = key_index(key);
    if (!ki) {
      throw invalid_argument("unknown key '" + quote(key) + "' in '" + quote(item) + "': expected " + key_list());
    }
    const key_info& info = keys[*ki];
    if (given[*ki]) {
      throw invalid_argument(std::string(info.name) + " is given twice: give each key once");
    }
    given[*ki] = true;
    const std::string_view text = item.substr(eq + 1);
    std::vector<std::string_view> parts;
    for (std::size_t vs = 0; vs <= text.size();) {
      const std::size_t colon = std::min(text.find(':', vs), text.size());
      parts.push_back(text.substr(vs, colon - vs));
      vs = colon + 1;
      if (parts.size() > static_cast<std::size_t>(max_stages)) {
        throw invalid_argument(std::string(info.name) + " lists more than " + std::to_string(max_stages) +
                               " values: give one value, one per rank or one per stage");
      }
    }
    if (!info.per_stage && parts.size() > 1) {
      throw invalid_argument("comm takes one value (every transfer between two ranks costs the same), got " +
                             std::to_string(parts.size()) + " in '" + quote(item) + "'");
    }
    values[*ki].clear();
    for (std::size_t i = 0; i < parts.size(); ++i) {
      values[*ki].push_back(parse_value(info, item, parts[i], i, parts.size()));
    }
  }
  std::size_t n = 1;
  std::size_t n_key = 0;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const std::size_t size = values[k].size();
    if (size == 1) {
      continue;
    }
    if (n != 1 && size != n) {
      throw invalid_argument(std::string(keys[n_key].name) + " lists " + std::to_string(n) + " values and " +
                             std::string(keys[k].name) + " " + std::to_string(size) +
                             ": give one value or the same number for every key");
    }
    n = size;
    n_key = k;
  }
  auto at = [&](std::size_t k, std::size_t i) { return values[k].size() == 1 ? values[k][0] : values[k][i]; };
  costs c;
  c.comm = values[comm_key][0];
  for (std::size_t i = 0; i < n; ++i) {
    c.per_stage.push_back({at(0, i), at(1, i), at(2, i), at(3, i), at(4, i), at(5, i), at(6, i), at(7, i)});
  }
  validate_costs(c);
  return c;
}

costs costs_for_stages(const costs& c, std::span<const int> stage_rank, int ranks) {
  const std::size_t stages = stage_rank.size();
  const std::size_t n = c.per_stage.size();
  if (ranks < 1) {
    throw invalid_argument("ranks = " + std::to_string(ranks) + ": must be >= 1");
  }
  std::vector<int> held(static_cast<std::size_t>(ranks), 0);
  for (std::size_t s = 0; s < stages; ++s) {
    const int r = stage_rank[s];
    if (r < 0 || r >= ranks) {
      throw invalid_argument("stage " + std::to_string(s) + " is placed on rank " + std::to_string(r) + " of " +
                             std::to_string(ranks));
    }
    ++held[static_cast<std::size_t>(r)];
  }
  if (stages == 0 || n == stages) {
    return c;  // one entry per model stage (also when there are as many stages as ranks), as it is
  }
  if (n != 1 && n != static_cast<std::size_t>(ranks)) {
    throw invalid_argument("a list of " + std::to_string(n) + " values for " + std::to_string(ranks) + " ranks and " +
                           std::to_string(stages) + " stages: give one value, " + std::to_string(ranks) +
                           " (one per rank) or " + std::to_string(stages) + " (one per stage)");
  }
  bool one_each = true;
  for (const int h : held) {
    one_each = one_each && h == 1;
  }
  if (one_each) {
    return c;  // one entry for every rank, each holding one stage
  }
  costs out;
  out.comm = c.comm;
  for (std::size_t s = 0; s < stages; ++s) {
    const int r = stage_rank[s];
    stage_cost sc = c.per_stage[n == 1 ? 0 : static_cast<std::size_t>(r)];
    const double v = held[static_cast<std::size_t>(r)];
    sc.f /= v;
    sc.b /= v;
    sc.w /= v;
    sc.activation_bytes /= v;
    sc.w_bytes /= v;
    sc.f_work_bytes /= v;
    sc.b_work_bytes /= v;
    sc.w_work_bytes /= v;
    out.per_stage.push_back(sc);
  }
  return out;
}

}  // namespace taskpipe::pp
