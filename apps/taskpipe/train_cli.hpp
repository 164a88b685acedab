// The options of `taskpipe train`, shared by the one-worker run (train_command.cpp) and the parallel one
// (train_parallel.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "taskpipe/train/trainer.hpp"

namespace taskpipe::cli {

struct train_cli {
  std::string preset = "small";
  int layers = 0, heads = 0, embd = 0, context = 0, seq = 0;
  train::trainer_options t;
  int threads = 1;
  std::string data;
  double val_fraction = 0.1;
  int val_batches = 8;
  std::string save, resume, init, trace;
  std::string svg;           // dp, pp, hybrid: the measured per-worker timeline as SVG
  bool compare_sim = false;  // with --svg / --trace: the simulator's timeline below the measured one
  std::int64_t save_every = 0;
  std::int64_t log_every = 10;
  bool json = false;
  bool quiet = false;
  // The layout (parallel_plan.hpp).
  std::string strategy = "task";
  int dp = 2, pp = 2;
  std::string schedule = "1f1b";
  int microbatches = 0;  // 0: the strategy's default
  int chunks = 2;
  std::string partition = "flops";
  std::uint64_t memory_per_worker = 0;
  double comm_timeout = 60;  // seconds a rank of an MPI job waits for one message before it aborts the job
  CLI::App* cmd = nullptr;
};

inline bool given(const train_cli& o, const char* flag) { return o.cmd->count(flag) > 0; }

}  // namespace taskpipe::cli
