// taskpipe/trace/text_view.hpp — a compact terminal picture of a timeline: one line per track, `columns` characters
// for the whole time span. A slice fills its cells with its label where it fits ("F3"), else with the label's first
// letter; idle time is '.'. Throws `taskpipe::invalid_argument` when columns < 1. Thread safety: a pure function.
#pragma once

#include "taskpipe/trace/timeline.hpp"

#include <string>

namespace taskpipe::trace {

std::string text_view(const timeline& t, int columns = 100);

}  // namespace taskpipe::trace
