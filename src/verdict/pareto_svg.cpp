#include "taskpipe/verdict/pareto_svg.hpp"

#include "taskpipe/trace/detail/xml_escape.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>

namespace taskpipe::verdict {
namespace {

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

std::string human_bytes(double b) {
  char buf[32];
  if (b >= 1 << 20) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1 << 20));
  } else if (b >= 1 << 10) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / (1 << 10));
  } else {
    std::snprintf(buf, sizeof buf, "%.0f B", b);
  }
  return buf;
}

std::string human_rate(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, x >= 1e4 ? "%.3g" : "%.4g", x);
  return buf;
}

}  // namespace

std::vector<std::size_t> pareto_front(const std::vector<plot_point>& points) {
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return points[a].memory != points[b].memory ? points[a].memory < points[b].memory
                                                : points[a].throughput > points[b].throughput;
  });
  std::vector<std::size_t> front;
  double best = -1;
  for (const auto i : order) {
    if (points[i].throughput > best) {
      front.push_back(i);
      best = points[i].throughput;
    }
  }
  return front;
}

std::string pareto_svg(const std::vector<plot_point>& points, const std::string& title, const std::string& unit) {
  constexpr double width = 760;
  constexpr double height = 480;
  constexpr double left = 90;
  constexpr double right = 200;  // room for labels of the front
  constexpr double top = 50;
  constexpr double bottom = 60;
  double max_x = 1;
  double max_y = 1;
  for (const auto& p : points) {
    max_x = std::max(max_x, p.memory);
    max_y = std::max(max_y, p.throughput);
  }
  max_x *= 1.1;
  max_y *= 1.1;
  const auto x = [&](double m) { return left + m / max_x * (width - left - right); };
  const auto y = [&](double t) { return height - bottom - t / max_y * (height - top - bottom); };
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" + num(height) +
                  "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + num(left) + "\" y=\"24\" font-size=\"15\">" + trace::detail::xml_escape(title) + "</text>\n";
  // Axes with five ticks each.
  s += "<line x1=\"" + num(left) + "\" y1=\"" + num(height - bottom) + "\" x2=\"" + num(width - right) + "\" y2=\"" +
       num(height - bottom) + "\" stroke=\"black\"/>\n";
  s += "<line x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\"" + num(height - bottom) +
       "\" stroke=\"black\"/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double m = max_x * k / 4;
    const double t = max_y * k / 4;
    s += "<text x=\"" + num(x(m)) + "\" y=\"" + num(height - bottom + 18) + "\" text-anchor=\"middle\">" +
         trace::detail::xml_escape(human_bytes(m)) + "</text>\n";
    s += "<text x=\"" + num(left - 8) + "\" y=\"" + num(y(t) + 4) + "\" text-anchor=\"end\">" + human_rate(t) +
         "</text>\n";
  }
  s += "<text x=\"" + num((left + width - right) / 2) + "\" y=\"" + num(height - 15) +
       "\" text-anchor=\"middle\">memory per worker</text>\n";
  s += "<text x=\"18\" y=\"" + num((top + height - bottom) / 2) + "\" transform=\"rotate(-90 18 " +
       num((top + height - bottom) / 2) + ")\" text-anchor=\"middle\">" + trace::detail::xml_escape(unit) + "</text>\n";
  const auto front = pareto_front(points);
  std::string path;
  for (const auto i : front) {
    path += (path.empty() ? "M" : " L") + num(x(points[i].memory)) + " " + num(y(points[i].throughput));
  }
  if (!path.empty()) {
    s += "<path d=\"" + path + "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n";
  }
  for (const auto& p : points) {
    s += "<circle cx=\"" + num(x(p.memory)) + "\" cy=\"" + num(y(p.throughput)) + "\" r=\"4\" fill=\"" +
         (p.measured ? "#1f77b4" : "white") + "\" stroke=\"#1f77b4\"><title>" + trace::detail::xml_escape(p.label) +
         "</title></circle>\n";
    if (p.recommended) {
      s += "<circle cx=\"" + num(x(p.memory)) + "\" cy=\"" + num(y(p.throughput)) +
           "\" r=\"9\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\"/>\n";
    }
  }
  for (const auto i : front) {
    s += "<text x=\"" + num(x(points[i].memory) + 10) + "\" y=\"" + num(y(points[i].throughput) - 6) + "\">" +
         trace::detail::xml_escape(points[i].label) + "</text>\n";
  }
  // Legend.
  const double lx = width - right + 20;
  s += "<circle cx=\"" + num(lx) + "\" cy=\"" + num(top + 10) + "\" r=\"4\" fill=\"#1f77b4\"/><text x=\"" +
       num(lx + 10) + "\" y=\"" + num(top + 14) + "\">measured</text>\n";
  s += "<circle cx=\"" + num(lx) + "\" cy=\"" + num(top + 28) +
       "\" r=\"4\" fill=\"white\" stroke=\"#1f77b4\"/><text x=\"" + num(lx + 10) + "\" y=\"" + num(top + 32) +
       "\">predicted only</text>\n";
  s += "<circle cx=\"" + num(lx) + "\" cy=\"" + num(top + 46) + "\" r=\"8\" fill=\"none\" stroke=\"#2ca02c\" " +
       "stroke-width=\"2\"/><text x=\"" + num(lx + 14) + "\" y=\"" + num(top + 50) + "\">recommended</text>\n";
  s += "<line x1=\"" + num(lx - 6) + "\" y1=\"" + num(top + 64) + "\" x2=\"" + num(lx + 6) + "\" y2=\"" +
       num(top + 64) + "\" stroke=\"#d62728\" stroke-dasharray=\"5 3\"/><text x=\"" + num(lx + 10) + "\" y=\"" +
       num(top + 68) + "\">Pareto front</text>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace taskpipe::verdict
