// `taskpipe verdict`: predict, measure and recommend task or pipeline parallelism for a streaming chain.
#pragma once

#include <CLI/CLI.hpp>

namespace taskpipe::cli {
void add_verdict_command(CLI::App& app);
}
