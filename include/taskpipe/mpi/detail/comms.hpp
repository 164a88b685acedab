// taskpipe/mpi/detail/comms.hpp — the communicators of a job and bounded waits on MPI requests (MPI layer only).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace taskpipe::mpi::detail {

struct comms {
  MPI_Comm world = MPI_COMM_WORLD;
  MPI_Comm pipeline = MPI_COMM_NULL;  ///< this replica's P ranks
  MPI_Comm replicas = MPI_COMM_NULL;  ///< the D copies of this pipeline rank
};

/// Tests `requests` until all complete. Past `timeout_s` seconds it throws mpi::comm_timeout with `what()`'s text.
void wait_all(std::span<MPI_Request> requests, double timeout_s, const std::function<std::string()>& what);

/// "2 s", "0.5 s": a timeout as the messages print it.
std::string seconds_text(double s);

/// Sums `value` over `comm` (MPI_Iallreduce), bounded by `timeout_s` like wait_all.
double sum(double value, MPI_Comm comm, double timeout_s, const std::function<std::string()>& what);

/// Receives the next message from `source` with `tag`, whatever its size, bounded by `timeout_s` like wait_all.
std::vector<std::byte> recv_message(MPI_Comm comm, int source, int tag, double timeout_s,
                                    const std::function<std::string()>& what);

/// Throws taskpipe::error naming `call` when `rc` is not MPI_SUCCESS.
void check(int rc, const char* call);

}  // namespace taskpipe::mpi::detail
