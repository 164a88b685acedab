// taskpipe/verdict/pareto_svg.hpp — a plot of the verdict's candidates: throughput against memory per worker, the
// Pareto front (no other candidate is both faster and smaller) joined by a line, measured points filled, predicted
// ones hollow, the recommendation ringed.
//
// Thread safety: pure function. Throws taskpipe::error when the file cannot be written (naming the path and reason).
#pragma once

#include <string>
#include <vector>

namespace taskpipe::verdict {

struct plot_point {
  std::string label;
  double throughput = 0;  ///< items/s (or steps/s): higher is better
  double memory = 0;      ///< bytes per worker: lower is better
  bool measured = false;
  bool recommended = false;
};

/// Indices of the points on the Pareto front, by increasing memory.
std::vector<std::size_t> pareto_front(const std::vector<plot_point>& points);

/// The SVG document.
std::string pareto_svg(const std::vector<plot_point>& points, const std::string& title, const std::string& unit);

}  // namespace taskpipe::verdict
