#include "taskpipe/trace/text_view.hpp"

#include "taskpipe/error.hpp"

#include <algorithm>
#include <cmath>

namespace taskpipe::trace {

std::string text_view(const timeline& t, int columns) {
  if (columns < 1 || columns > max_text_columns) {
    throw invalid_argument("columns = " + std::to_string(columns) + ": must be in [1, " +
                           std::to_string(max_text_columns) + "]");
  }
  const double span = t.end() > 0 ? t.end() : 1;
  const double scale = columns / span;
  std::size_t name_width = 0;
  for (const auto& name : t.tracks) {
    name_width = std::max(name_width, name.size());
  }
  const auto width = static_cast<std::size_t>(columns);
  std::vector<std::string> rows(t.tracks.size(), std::string(width, '.'));
  for (const auto& e : t.events) {
    if (e.track < 0 || static_cast<std::size_t>(e.track) >= rows.size()) {
      continue;
    }
    auto col = [&](double time) { return std::clamp<long>(std::lround(time * scale), 0, static_cast<long>(columns)); };
    const auto from = static_cast<std::size_t>(col(e.start));
    auto to = static_cast<std::size_t>(col(e.start + e.duration));
    if (to == from && from < width) {
      to = from + 1;  // every slice stays visible
    }
    const std::string label = e.label.empty() ? (e.name.empty() ? std::string("#") : e.name) : e.label;
    std::string& row = rows[static_cast<std::size_t>(e.track)];
    const std::size_t cells = to - from;
    for (std::size_t i = 0; i < cells; ++i) {
      // The label when it fits the slice (one cell spare as a separator), else its first letter.
      const bool fits = label.size() < cells;
      row[from + i] = fits && i < label.size() ? label[i] : (i == 0 || !fits ? label.front() : ' ');
    }
  }
  std::string out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += t.tracks[i] + std::string(name_width - t.tracks[i].size(), ' ') + " |" + rows[i] + "|\n";
  }
  return out;
}

}  // namespace taskpipe::trace
