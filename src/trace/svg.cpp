#include "taskpipe/trace/svg.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/trace/write_file.hpp"

#include <cstdio>
#include <ostream>
#include <sstream>

namespace taskpipe::trace {

const char* category_colour(const std::string& category) noexcept {
  if (category == "F") {
    return "#4e79a7";
  }
  if (category == "I") {
    return "#f28e2b";
  }
  if (category == "W") {
    return "#59a14f";
  }
  if (category == "B") {
    return "#e15759";
  }
  return "#9d9d9d";
}

namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

void write_svg(const timeline& t, std::ostream& out, const svg_options& options) {
  constexpr double label_width = 70;
  constexpr double axis_height = 24;
  const double span = t.end() > 0 ? t.end() : 1;
  const double scale = options.width / span;
  const double height = static_cast<double>(t.tracks.size()) * options.row_height + axis_height;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << fixed(label_width + options.width + 10)
      << "\" height=\"" << fixed(height) << "\" font-family=\"monospace\" font-size=\"11\">\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (std::size_t i = 0; i < t.tracks.size(); ++i) {
    const double y = static_cast<double>(i) * options.row_height;
    out << "<text x=\"4\" y=\"" << fixed(y + options.row_height * 0.65) << "\">" << escape(t.tracks[i]) << "</text>\n";
  }
  for (const auto& e : t.events) {
    const double x = label_width + e.start * scale;
    const double w = e.duration * scale;
    const double y = static_cast<double>(e.track) * options.row_height + 2;
    const std::string& label = e.label.empty() ? e.name : e.label;
    out << "<g><title>" << escape(e.name) << "</title><rect x=\"" << fixed(x) << "\" y=\"" << fixed(y) << "\" width=\""
        << fixed(w) << "\" height=\"" << fixed(options.row_height - 4) << "\" fill=\"" << category_colour(e.category)
        << "\" stroke=\"white\" stroke-width=\"0.5\"/>";
    // A label that does not fit its box would overlap the next one; the tooltip still names the slice.
    if (w >= 7.0 * static_cast<double>(label.size()) + 2) {
      out << "<text x=\"" << fixed(x + w / 2) << "\" y=\"" << fixed(y + options.row_height * 0.55)
          << "\" text-anchor=\"middle\" fill=\"white\">" << escape(label) << "</text>";
    }
    out << "</g>\n";
  }
  const double axis_y = static_cast<double>(t.tracks.size()) * options.row_height + 14;
  for (int tick = 0; tick <= 10; ++tick) {
    const double at = span * tick / 10.0;
    out << "<text x=\"" << fixed(label_width + at * scale) << "\" y=\"" << fixed(axis_y)
        << "\" text-anchor=\"middle\" fill=\"#555\">" << fixed(at) << "</text>\n";
  }
  out << "</svg>\n";
}

void write_svg(const timeline& t, const std::string& path, const svg_options& options) {
  std::ostringstream out;
  write_svg(t, out, options);
  write_file(path, out.str(), "SVG file");
}

}  // namespace taskpipe::trace
