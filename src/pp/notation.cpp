#include "taskpipe/pp/notation.hpp"

#include "taskpipe/detail/quote.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/pp/limits.hpp"
#include "taskpipe/trace/write_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
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

// Counts rows and actions as they are read, so a file past the limits is refused before it is held in memory.
struct import_budget {
  long long actions = 0;

  void add_row(std::size_t rows_so_far) const {
    if (rows_so_far >= static_cast<std::size_t>(max_ranks)) {
      throw invalid_argument("more than " + std::to_string(max_ranks) + " rows: a row is a rank, at most " +
                             std::to_string(max_ranks));
    }
  }

  // Parses one action and checks its numbers against the limits; `at` says where it is for the message.
  action parse(std::string_view cell, const std::string& at) {
    action a;
    try {
      a = parse_action(cell);
    } catch (const invalid_argument&) {
      throw invalid_argument(at + ": bad action '" + detail::quote(cell) +
                             "': expected <stage><F|I|W|B><micro-batch> with non-negative integers, e.g. 2F0");
    }
    if (a.stage >= max_stages) {
      throw invalid_argument(at + ": stage " + std::to_string(a.stage) + " in '" + detail::quote(cell) +
                             "': stages are numbered 0.." + std::to_string(max_stages - 1));
    }
    if (a.microbatch >= max_microbatches) {
      throw invalid_argument(at + ": micro-batch " + std::to_string(a.microbatch) + " in '" + detail::quote(cell) +
                             "': micro-batches are numbered 0.." + std::to_string(max_microbatches - 1));
    }
    if (++actions > max_actions) {
      throw invalid_argument(at + ": more than " + std::to_string(max_actions) + " actions");
    }
    return a;
  }
};

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
  if (static_cast<long long>(s.stages) * s.microbatches > max_work) {
    throw invalid_argument(std::to_string(s.stages) + " stages x " + std::to_string(s.microbatches) +
                           " micro-batches: at most " + std::to_string(max_work));
  }
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
  constexpr std::string_view bom = "\xEF\xBB\xBF";  // spreadsheets put one in front of the CSV files they save
  if (csv.starts_with(bom)) {
    csv.remove_prefix(bom.size());
  }
  std::vector<std::vector<action>> rows;
  import_budget budget;
  const auto lines = split(csv, '\n');
  for (std::size_t li = 0; li < lines.size(); ++li) {
    // A trailing newline leaves an empty last line; an empty line elsewhere is a rank with no actions.
    if (li + 1 == lines.size() && trim(lines[li]).empty()) {
      break;
    }
    budget.add_row(rows.size());
    std::vector<action> row;
    const auto cells = split(lines[li], ',');
    for (std::size_t ci = 0; ci < cells.size(); ++ci) {
      const std::string_view cell = trim(cells[ci]);
      if (cell.empty() || is_torch_non_compute(cell)) {
        continue;
      }
      row.push_back(budget.parse(cell, where(li, ci)));
    }
    rows.push_back(std::move(row));
  }
  return assemble(std::move(rows), "imported");
}

schedule from_text(std::string_view text) {
  std::vector<std::vector<action>> rows;
  import_budget budget;
  const auto lines = split(text, '\n');
  for (std::size_t li = 0; li < lines.size(); ++li) {
    std::string_view line = trim(lines[li]);
    if (line.empty()) {
      continue;
    }
    if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
      line = line.substr(colon + 1);
    }
    budget.add_row(rows.size());
    std::vector<action> row;
    const auto words = split(line, ' ');
    for (std::size_t wi = 0; wi < words.size(); ++wi) {
      const std::string_view word = trim(words[wi]);
      if (word.empty()) {
        continue;
      }
      row.push_back(budget.parse(word, "line " + std::to_string(li + 1)));
    }
    rows.push_back(std::move(row));
  }
  return assemble(std::move(rows), "imported");
}

schedule load_csv(const std::string& path) {
  const std::string shown = "'" + detail::quote(path, 200) + "'";
  struct closer {
    void operator()(std::FILE* f) const noexcept { static_cast<void>(std::fclose(f)); }
  };
  errno = 0;
  const std::unique_ptr<std::FILE, closer> in{std::fopen(path.c_str(), "rb")};
  if (!in) {
    throw error("cannot read schedule file " + shown + ": " + std::strerror(errno));
  }
  // Read in pieces up to the limit, so a huge file or an endless one (/dev/zero, a pipe) is refused, not exhausted.
  std::string text;
  char buf[65536];
  for (;;) {
    const std::size_t got = std::fread(buf, 1, sizeof buf, in.get());
    text.append(buf, got);
    if (text.size() > max_import_bytes) {
      throw invalid_argument("schedule file " + shown + " is larger than " + std::to_string(max_import_bytes >> 20U) +
                             " MiB: refused");
    }
    if (got < sizeof buf) {
      break;
    }
  }
  if (std::ferror(in.get()) != 0) {
    throw error("cannot read schedule file " + shown + ": " + std::strerror(errno));
  }
  if (text.find('\0') != std::string::npos) {
    throw invalid_argument("schedule file " + shown + " holds NUL bytes: expected a text file of actions such as 0F0");
  }
  return from_csv(text);
}

void save_csv(const schedule& s, const std::string& path) { trace::write_file(path, to_csv(s), "schedule file"); }

}  // namespace taskpipe::pp
