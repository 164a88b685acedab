// `taskpipe schedule`: generate, import, validate, simulate and draw model-pipeline schedules.
#pragma once

#include <CLI/CLI.hpp>

namespace taskpipe::cli {
void add_schedule_command(CLI::App& app);
}
