// `taskpipe train --strategy dp|pp|hybrid`: the layout's checks, the partitioner's cut, the run on a
// parallel_trainer, and the per-worker report (busy, idle, peak memory by category).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/train/parallel_plan.hpp"
#include "train_cli.hpp"

namespace taskpipe::cli {

/// Refuses (taskpipe::invalid_argument, one line) layout flags that conflict with the strategy or would be ignored.
void check_layout_flags(const train_cli& o);

/// The plan of the run the flags ask for; throws (one line) for a layout the model, batch or schedule cannot take.
train::parallel_plan plan_from_flags(const train_cli& o, const nn::gpt2_config& cfg);

/// Trains under `plan` and prints the report. The splits and the checkpoint are already checked.
void run_parallel_train(const train_cli& o, const nn::gpt2_config& cfg, const train::parallel_plan& plan,
                        const std::optional<nn::checkpoint>& ckpt, std::span<const std::uint8_t> train_split,
                        std::span<const std::uint8_t> validation_split);

}  // namespace taskpipe::cli
