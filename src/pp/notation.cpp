#include "taskpipe/pp/notation.hpp"

#include "taskpipe/error.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

namespace taskpipe::pp {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) {
      return out;
    }
    start = at + 1;
  }
}

// torch's communication and sharding actions: the placement already implies the transfers, so they are skipped.
bool is_torch_non_compute(std::string_view cell) {
  std::size_t i = 0;
  while (i < cell.size() && cell[i] >= '0' && cell[i] <= '9') {
    ++i;
  }
  const std::string_view rest = cell.substr(i);
  for (const std::string_view prefix : {"SEND_", "RECV_", "UNSHARD", "RESHARD", "REDUCE_GRAD"}) {
    if (rest.starts_with(prefix)) {
      return true;
    }
  }
  return false;
}

std::string where(std::size_t row, std::size_t cell) {
  return "row " + std::to_string(row + 1) + ", cell " + std::to_string(cell + 1);
}

// Infers stages, micro-batches and placement from the rows; refuses a stage spread over two ranks.
schedule assemble(std::vector<std::vector<action>> rows, const std::string& name) {
  schedule s;
  s.name = name;
  s.ranks = static_cast<int>(rows.size());
  if (s.ranks == 0) {
    throw invalid_argument("empty schedule: expected one row of actions per rank");
  }
  int max_stage = -1;
  int max_mb = -1;
  for (const auto& row : rows) {
    for (const auto& a : row) {
      max_stage = std::max(max_stage, a.stage);
      max_mb = std::max(max_mb, a.microbatch);
    }
  }
  if (max_stage < 0) {
    throw invalid_argument("schedule without actions: expected at least one action such as 0F0");
  }
  s.stages = max_stage + 1;
  s.microbatches = max_mb + 1;
  s.stage_rank.assign(static_cast<std::size_t>(s.stages), -1);
  std::set<std::tuple<int, int>> has_w;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (const auto& a : rows[r]) {
      int& placed = s.stage_rank[static_cast<std::size_t>(a.stage)];
      if (placed >= 0 && placed != static_cast<int>(r)) {
        throw invalid_argument("stage " + std::to_string(a.stage) + " appears on rank " + std::to_string(placed) +
                               " and on rank " + std::to_string(r) + ": each stage must live on one rank");
      }
      placed = static_cast<int>(r);
      if (a.kind == action_kind::backward_weight) {
        has_w.emplace(a.stage, a.microbatch);
      }
    }
  }
  for (int st = 0; st < s.stages; ++st) {
    if (s.stage_rank[static_cast<std::size_t>(st)] < 0) {
      throw invalid_argument("stage " + std::to_string(st) + " has no action: stages must be numbered 0.." +
                             std::to_string(s.stages - 1) + " without gaps");
    }
  }
  for (auto& row : rows) {
    for (auto& a : row) {
      if (a.kind == action_kind::backward_full && has_w.contains({a.stage, a.microbatch})) {
        a.kind = action_kind::backward_input;
      }
    }
  }
  s.orders = std::move(rows);
  return s;
}

std::string join(const std::vector<action>& row, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += to_string(row[i]);
  }
  return out;
}

}  // namespace

std::string to_text(const schedule& s) {
  std::string out;
  for (std::size_t r = 0; r < s.orders.size(); ++r) {
    out += "rank " + std::to_string(r) + ": " + join(s.orders[r], " ") + "\n";
  }
  return out;
}

std::string to_csv(const schedule& s) {
  std::string out;
  for (const auto& row : s.orders) {
    out += join(row, ",") + "\n";
  }
  return out;
}

schedule from_csv(std::string_view csv) {
  std::vector<std::vector<action>> rows;
  const auto lines = split(csv, '\n');
  for (std::size_t li = 0; li < lines.size(); ++li) {
    // A trailing newline leaves an empty last line; an empty line elsewhere is a rank with no actions.
    if (li + 1 == lines.size() && trim(lines[li]).empty()) {
      break;
    }
    std::vector<action> row;
    const auto cells = split(lines[li], ',');
    for (std::size_t ci = 0; ci < cells.size(); ++ci) {
      const std::string_view cell = trim(cells[ci]);
      if (cell.empty() || is_torch_non_compute(cell)) {
        continue;
      }
      try {
        row.push_back(parse_action(cell));
      } catch (const invalid_argument& e) {
        throw invalid_argument(where(li, ci) + ": " + e.what());
      }
    }
    rows.push_back(std::move(row));
  }
  return assemble(std::move(rows), "imported");
}

schedule from_text(std::string_view text) {
  std::vector<std::vector<action>> rows;
  const auto lines = split(text, '\n');
  for (std::size_t li = 0; li < lines.size(); ++li) {
    std::string_view line = trim(lines[li]);
    if (line.empty()) {
      continue;
    }
    if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
      line = line.substr(colon + 1);
    }
    std::vector<action> row;
    const auto words = split(line, ' ');
    for (std::size_t wi = 0; wi < words.size(); ++wi) {
      const std::string_view word = trim(words[wi]);
      if (word.empty()) {
        continue;
      }
      try {
        row.push_back(parse_action(word));
      } catch (const invalid_argument& e) {
        throw invalid_argument("line " + std::to_string(li + 1) + ": " + e.what());
      }
    }
    rows.push_back(std::move(row));
  }
  return assemble(std::move(rows), "imported");
}

schedule load_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw error("cannot read schedule file '" + path + "'");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return from_csv(text.str());
}

void save_csv(const schedule& s, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    throw error("cannot write schedule file '" + path + "'");
  }
  out << to_csv(s);
  if (!out) {
    throw error("failed writing schedule file '" + path + "'");
  }
}

}  // namespace taskpipe::pp
