// taskpipe/mpi/comm_timeout.hpp — thrown when a rank waits longer than its communication timeout for a peer.
#pragma once

#include "taskpipe/error.hpp"

namespace taskpipe::mpi {

/// The message names the waiting rank, the rank it waited for and what for (stage, micro-batch, direction).
class comm_timeout : public taskpipe::error {
 public:
  using taskpipe::error::error;
};

}  // namespace taskpipe::mpi
