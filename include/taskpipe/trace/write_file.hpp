// taskpipe/trace/write_file.hpp — writes a whole output file (an SVG, a trace, a schedule CSV) and checks every step.
//
// Contract: `write_file` creates or truncates `path`, writes `content`, flushes and closes it, and throws
// `taskpipe::error` naming the file (`what`, e.g. "SVG file"), the path and the system's reason (errno's text) when
// any step fails: an empty path, a missing directory, a full disk (/dev/full), a failed close. A failure after the
// file was opened leaves a partial file behind. Thread safety: none beyond the file system's.
#pragma once

#include <string>
#include <string_view>

namespace taskpipe::trace {

void write_file(const std::string& path, std::string_view content, std::string_view what);

}  // namespace taskpipe::trace
