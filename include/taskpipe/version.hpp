// taskpipe/version.hpp — the library version, kept equal to the CMake project version (a test checks it).
#pragma once

#define TASKPIPE_VERSION_MAJOR 0
#define TASKPIPE_VERSION_MINOR 1
#define TASKPIPE_VERSION_PATCH 0
#define TASKPIPE_VERSION_STRING "0.1.0"

namespace taskpipe {
/// The library version as "major.minor.patch".
inline constexpr const char* version_string = TASKPIPE_VERSION_STRING;
}  // namespace taskpipe
