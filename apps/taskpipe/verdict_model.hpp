// `taskpipe verdict --model ...` and the built-in model of `taskpipe verdict`: the flags, the built-in workload, and
// the report (table, verdict in words, JSON, SVG, traces).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "verdict_common.hpp"

namespace taskpipe::cli {

struct model_flags {
  bool model = false;
  std::string preset = "tiny";
  int layers = 0, heads = 0, embd = 0, context = 0, seq = 0, batch = 8;
  std::uint64_t memory_per_worker = 0;
  int steps = 3;
  std::uint64_t seed = 0;
};

/// Adds --model and the flags it takes to the verdict command.
void add_model_flags(CLI::App& cmd, model_flags& o);

/// Refuses model flags given without --model (they would be ignored) and chain flags given with it.
void check_model_flags(const CLI::App& cmd, const model_flags& o);

struct model_output {
  std::string svg;        ///< --svg path, or empty
  std::string trace_dir;  ///< --trace directory, or empty
  bool suffix = false;    ///< several reports: each file named after its report
};

/// Judges the user's model (`builtin` false) or the built-in one under a tight and an ample limit; appends the text
/// report to `out` (or the JSON objects to `json["models"]`) and writes the files.
void run_model_verdict(const CLI::App& cmd, const model_flags& o, std::size_t top, std::size_t workers, bool builtin,
                       const model_output& files, progress_line& progress, std::string& out, nlohmann::json* json);

}  // namespace taskpipe::cli
