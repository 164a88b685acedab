// `taskpipe generate`: text sampled from a checkpoint, after a prompt.
#pragma once

#include <CLI/CLI.hpp>

namespace taskpipe::cli {
void add_generate_command(CLI::App& app);
}
