// `mpirun -np D·P taskpipe train --strategy dp|pp|hybrid ...`: one rank of the job (mpi::distributed_trainer), the
// report printed by world rank 0, and every failure turned into one line naming the rank, stage and step, then the
// whole job aborted.
#pragma once

#include <optional>
#include <span>

#include "taskpipe/nn/checkpoint.hpp"
#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/train/parallel_plan.hpp"
#include "train_cli.hpp"

namespace taskpipe::cli {

/// Whether this process runs as one rank of an MPI job (started by mpirun, in a build with the MPI layer).
bool under_mpirun();
/// Refuses (one line) a world size that is not D x P, and --comm-timeout outside mpirun.
void check_mpi_flags(const train_cli& o, const train::parallel_plan* plan);

/// Trains this rank's share of `plan`; never returns on a failure (the job is aborted).
void run_mpi_train(const train_cli& o, const nn::gpt2_config& cfg, const train::parallel_plan& plan,
                   const std::optional<nn::checkpoint>& ckpt, std::span<const std::uint8_t> train_split,
                   std::span<const std::uint8_t> validation_split);

}  // namespace taskpipe::cli
