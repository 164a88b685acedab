// taskpipe/trace/svg.hpp — writes a timeline as an SVG picture: one row per track, one box per slice coloured by
// category (F blue, I orange, W green, B red, anything else grey), a time axis and a legend.
//
// Readable at any size: the time scale starts at `width` pixels for the whole span and grows until nine slices in
// ten have room for their labels, up to `max_width` pixels; a slice too narrow for its label shows the
// micro-batch alone, or nothing (its tooltip still names it, and the legend says so). The track-name column is as
// wide as the longest name, axis ticks fall on round numbers spaced so their labels never touch, and the picture is
// wide enough for every label, the last tick's and the legend's included: no text is clipped.
//
// Throws `taskpipe::error` (naming the file and the reason) when the file cannot be written, and
// `taskpipe::invalid_argument` on a width, max_width or row height that is not positive and finite.
// Thread safety: reads the timeline only.
#pragma once

#include "taskpipe/trace/timeline.hpp"

#include <iosfwd>
#include <string>

namespace taskpipe::trace {

struct svg_options {
  double width = 1200;       ///< pixels for the whole time span at least
  double max_width = 32768;  ///< pixels the time span may grow to so that slices fit their labels
  double row_height = 28;
};

void write_svg(const timeline& t, std::ostream& out, const svg_options& options = {});
void write_svg(const timeline& t, const std::string& path, const svg_options& options = {});

/// The fill colour the writers use for a category, as "#rrggbb".
const char* category_colour(const std::string& category) noexcept;

/// Monospace glyph width the SVG lays text out with, in pixels at its 11-pixel font (0.6 em, rounded up).
inline constexpr double svg_char_width = 7.0;
/// Room a slice keeps on each side of its label, in pixels.
inline constexpr double svg_label_margin = 2.0;

}  // namespace taskpipe::trace
