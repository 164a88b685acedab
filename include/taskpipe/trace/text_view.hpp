// taskpipe/trace/text_view.hpp — a compact terminal picture of a timeline: one line per track, `columns` characters
// for the whole time span. A slice fills its cells with its label where it fits ("F3"), else with the label's first
// letter; idle time is '.'. Throws `taskpipe::invalid_argument` when columns is outside [1, max_text_columns] (a
// terminal picture wider than that is no picture, and each column costs memory per track). Thread safety: a pure
// function.
#pragma once

#include "taskpipe/trace/timeline.hpp"

#include <string>

namespace taskpipe::trace {

inline constexpr int max_text_columns = 1000;

std::string text_view(const timeline& t, int columns = 100);

}  // namespace taskpipe::trace
