// `taskpipe bench`: the fork-join workloads run serial and on taskpipe, with the speed-up table.
#pragma once

#include <CLI/CLI.hpp>

namespace taskpipe::cli {
void add_bench_command(CLI::App& app);
}
