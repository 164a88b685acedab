// taskpipe/trace/svg.hpp — writes a timeline as an SVG picture: one row per track, one labelled box per slice,
// coloured by category (F blue, I orange, W green, B red, anything else grey), with a time axis.
//
// Throws `taskpipe::error` when the file cannot be written. Thread safety: reads the timeline only.
#pragma once

#include "taskpipe/trace/timeline.hpp"

#include <iosfwd>
#include <string>

namespace taskpipe::trace {

struct svg_options {
  double width = 1200;  ///< pixels for the whole time span
  double row_height = 28;
};

void write_svg(const timeline& t, std::ostream& out, const svg_options& options = {});
void write_svg(const timeline& t, const std::string& path, const svg_options& options = {});

/// The fill colour the writers use for a category, as "#rrggbb".
const char* category_colour(const std::string& category) noexcept;

}  // namespace taskpipe::trace
