// `taskpipe train`: train the built-in GPT-2-architecture model on a text file (or the fortunes corpus).
#pragma once

#include <CLI/CLI.hpp>

namespace taskpipe::cli {
void add_train_command(CLI::App& app);
}
