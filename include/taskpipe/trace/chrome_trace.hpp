// taskpipe/trace/chrome_trace.hpp — writes a timeline as Chrome-trace JSON (opens in Perfetto and chrome://tracing).
//
// One process, one thread track per timeline track (named by a metadata event), one complete ("X") event per slice
// with its category, a colour name per category and the event's args. Standard library only.
// Throws `taskpipe::error` when the file cannot be written. Thread safety: reads the timeline only.
#pragma once

#include "taskpipe/trace/timeline.hpp"

#include <iosfwd>
#include <string>

namespace taskpipe::trace {

void write_chrome(const timeline& t, std::ostream& out);
void write_chrome(const timeline& t, const std::string& path);

/// `text` quoted and escaped as a JSON string.
std::string json_quote(const std::string& text);

}  // namespace taskpipe::trace
