// `taskpipe eval`: a checkpoint's mean loss over the first batches of a text file.
#pragma once

#include <CLI/CLI.hpp>

namespace taskpipe::cli {
void add_eval_command(CLI::App& app);
}
