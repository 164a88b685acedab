#include "taskpipe/trace/svg.hpp"

#include "taskpipe/trace/detail/xml_escape.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/trace/write_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string_view>
#include <vector>

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

constexpr double font_size = 11;
constexpr double pad = 6;           // around text, and between a label and its box's edges
constexpr double axis_height = 24;  // the tick labels' row
constexpr double legend_height = 22;

using detail::xml_escape;

std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

double text_width(std::string_view text) { return svg_char_width * static_cast<double>(text.size()); }

// The label a box of `w` pixels can hold: the short label ("F3"), else the micro-batch alone ("3"), else none.
std::string_view fitting_label(const event& e, double w) {
  const std::string& label = e.label.empty() ? e.name : e.label;
  if (text_width(label) + 2 * svg_label_margin <= w) {
    return label;
  }
  std::string_view tail = label;
  if (!e.category.empty() && tail.starts_with(e.category)) {
    tail.remove_prefix(e.category.size());
  }
  if (!tail.empty() && tail.size() < label.size() && text_width(tail) + 2 * svg_label_margin <= w) {
    return tail;
  }
  return {};
}

// Pixels per time unit: options.width for the span, grown until nine slices in ten fit their labels (all of them
// would let one tiny slice stretch the picture to max_width), within max_width.
double time_scale(const timeline& t, double span, const svg_options& o) {
  double scale = o.width / span;
  std::vector<double> need;  // per slice: the scale at which its label fits
  for (const auto& e : t.events) {
    if (e.duration > 0) {
      need.push_back((text_width(e.label.empty() ? e.name : e.label) + 2 * svg_label_margin) / e.duration);
    }
  }
  if (!need.empty()) {
    const auto mid = need.begin() + static_cast<std::ptrdiff_t>(need.size() * 9 / 10);
    std::nth_element(need.begin(), mid, need.end());
    scale = std::max(scale, *mid);
  }
  return std::min(scale, std::max(o.width, o.max_width) / span);
}

struct axis {
  double step = 1;
  int decimals = 0;
};

std::string tick_text(double at, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, at);
  return buf;
}

// The smallest round step (1, 2 or 5 times a power of ten) whose tick labels stay apart at this scale.
axis choose_axis(double span, double scale) {
  // From far below any step a label could need (a millionth of the span) up to the span itself.
  const int first = static_cast<int>(std::floor(std::log10(std::max(span / 1e6, 1e-12))));
  const int last = static_cast<int>(std::ceil(std::log10(span))) + 1;
  for (int exponent = first; exponent <= last; ++exponent) {
    for (const double m : {1.0, 2.0, 5.0}) {
      const double step = std::pow(10.0, exponent) * m;
      const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
      const double widest = text_width(tick_text(span, decimals));
      if (step * scale >= widest + 2 * pad) {
        return {step, decimals};
      }
    }
  }
  return {span, 0};
}

struct legend_item {
  std::string category;
  std::string text;
};

std::vector<legend_item> legend_of(const timeline& t) {
  const std::vector<legend_item> known{
      {"F", "F forward"}, {"I", "I backward (input)"}, {"W", "W backward (weight)"}, {"B", "B backward (full)"}};
  std::vector<legend_item> out;
  auto present = [&](const std::string& c) {
    return std::any_of(t.events.begin(), t.events.end(), [&](const event& e) { return e.category == c; });
  };
  for (const auto& item : known) {
    if (present(item.category)) {
      out.push_back(item);
    }
  }
  const bool other = std::any_of(t.events.begin(), t.events.end(), [&](const event& e) {
    return std::none_of(known.begin(), known.end(), [&](const legend_item& k) { return k.category == e.category; });
  });
  if (other) {
    out.push_back({"", "other"});
  }
  return out;
}

void check(const svg_options& o) {
  for (const double v : {o.width, o.max_width, o.row_height}) {
    if (!std::isfinite(v) || v <= 0) {
      throw invalid_argument("svg_options: width " + fixed(o.width) + ", max_width " + fixed(o.max_width) +
                             ", row_height " + fixed(o.row_height) + ": each must be a finite number > 0");
    }
  }
}

}  // namespace

void write_svg(const timeline& t, std::ostream& out, const svg_options& options) {
  check(options);
  const double row = options.row_height;
  double name_width = 0;
  for (const auto& name : t.tracks) {
    name_width = std::max(name_width, text_width(name));
  }
  const double left = name_width + 2 * pad;  // the time axis starts here
  const double span = t.end() > 0 ? t.end() : 1;
  const double scale = time_scale(t, span, options);
  const double plot = span * scale;
  const axis ax = choose_axis(span, scale);
  const auto ticks = static_cast<long long>(std::floor(span / ax.step + 1e-9));

  const auto legend = legend_of(t);
  const std::string note =
      "labels: kind and micro-batch; a narrow slice shows the micro-batch or nothing: hover "
      "it for its name";
  double legend_width = text_width(note) + 2 * pad;
  for (const auto& item : legend) {
    legend_width += font_size + pad + text_width(item.text) + 2 * pad;
  }
  const double last_tick_half = text_width(tick_text(static_cast<double>(ticks) * ax.step, ax.decimals)) / 2;
  const double first_tick_half = text_width(tick_text(0, ax.decimals)) / 2;
  const double total_width =
      std::max({left + plot + last_tick_half + pad, legend_width + pad, left + first_tick_half + pad});
  const double rows_height = static_cast<double>(t.tracks.size()) * row;
  const double height = rows_height + axis_height + legend_height;

  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << fixed(std::ceil(total_width)) << "\" height=\""
      << fixed(height) << "\" font-family=\"monospace\" font-size=\"" << font_size << "\">\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (std::size_t i = 0; i < t.tracks.size(); ++i) {
    const double y = static_cast<double>(i) * row;
    out << "<text x=\"" << fixed(pad) << "\" y=\"" << fixed(y + row * 0.65) << "\">" << xml_escape(t.tracks[i])
        << "</text>\n";
  }
  for (const auto& e : t.events) {
    const double x = left + e.start * scale;
    const double w = e.duration * scale;
    const double y = static_cast<double>(e.track) * row + 2;
    out << "<g><title>" << xml_escape(e.name) << "</title><rect x=\"" << fixed(x) << "\" y=\"" << fixed(y)
        << "\" width=\"" << fixed(w) << "\" height=\"" << fixed(row - 4) << "\" fill=\"" << category_colour(e.category)
        << "\" stroke=\"white\" stroke-width=\"0.5\"/>";
    if (const std::string_view label = fitting_label(e, w); !label.empty()) {
      out << "<text x=\"" << fixed(x + w / 2) << "\" y=\"" << fixed(y + row * 0.55)
          << "\" text-anchor=\"middle\" fill=\"white\">" << xml_escape(label) << "</text>";
    }
    out << "</g>\n";
  }
  out << "<line x1=\"" << fixed(left) << "\" y1=\"" << fixed(rows_height) << "\" x2=\"" << fixed(left + plot)
      << "\" y2=\"" << fixed(rows_height) << "\" stroke=\"#555\"/>\n";
  const double axis_y = rows_height + 15;
  for (long long tick = 0; tick <= ticks; ++tick) {
    const double at = static_cast<double>(tick) * ax.step;
    out << "<text x=\"" << fixed(left + at * scale) << "\" y=\"" << fixed(axis_y)
        << "\" text-anchor=\"middle\" fill=\"#555\">" << tick_text(at, ax.decimals) << "</text>\n";
  }
  double lx = pad;
  const double ly = rows_height + axis_height;
  for (const auto& item : legend) {
    out << "<rect x=\"" << fixed(lx) << "\" y=\"" << fixed(ly + 2) << "\" width=\"" << fixed(font_size)
        << "\" height=\"" << fixed(font_size) << "\" fill=\"" << category_colour(item.category) << "\" class=\"key\"/>";
    lx += font_size + pad;
    out << "<text x=\"" << fixed(lx) << "\" y=\"" << fixed(ly + 12) << "\">" << xml_escape(item.text) << "</text>\n";
    lx += text_width(item.text) + 2 * pad;
  }
  out << "<text x=\"" << fixed(lx) << "\" y=\"" << fixed(ly + 12) << "\" fill=\"#555\">" << xml_escape(note)
      << "</text>\n";
  out << "</svg>\n";
}

void write_svg(const timeline& t, const std::string& path, const svg_options& options) {
  std::ostringstream out;
  write_svg(t, out, options);
  write_file(path, out.str(), "SVG file");
}

}  // namespace taskpipe::trace
