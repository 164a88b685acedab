// taskpipe/mpi/job.hpp — one process's place in an MPI training job of D replicas x P pipeline ranks.
//
// Rank layout: world rank w = d·P + r holds pipeline rank r of replica d (the stages the schedule places on rank r).
// The pipeline communicator of replica d holds world ranks d·P .. d·P + P-1 (rank in it: r); the data-parallel
// communicator of pipeline rank r holds world ranks r, P + r, ..., (D-1)·P + r (rank in it: d), so each stage's
// gradients are reduced among the replicas' copies of that stage only (MPI_Comm_split).
// `job` initialises MPI on construction and finalises it on destruction; one per process. `abort` prints one line
// and takes the whole job down (MPI_Abort): the way every rank's failure ends, so no rank waits for a dead peer.
// Thread safety: only the thread that built the job may use it or any MPI object built from it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace taskpipe::mpi {

namespace detail {
struct comms;
}

/// Whether this process was started by mpirun (Open MPI's or a PMI launcher's environment is set).
bool launched_by_mpirun() noexcept;
/// The launcher's world size and this process's world rank, from the environment (1 and 0 outside mpirun).
int world_size_from_env() noexcept;
int world_rank_from_env() noexcept;

struct layout {
  int replicas = 1;
  int ranks = 1;
  int replica = 0;
  int rank = 0;
  int world_rank = 0;
  int world_size = 1;

  [[nodiscard]] int world_of(int replica_index, int pipeline_rank) const noexcept {
    return replica_index * ranks + pipeline_rank;
  }
  /// "rank 3 (replica 1, pipeline rank 1)"
  [[nodiscard]] std::string describe(int world) const;
};

class job {
 public:
  /// Initialises MPI and splits the communicators. Throws taskpipe::invalid_argument when the world size is not
  /// replicas x ranks (the caller checks world_size_from_env() first, before MPI starts).
  job(int replicas, int ranks);
  ~job();
  job(const job&) = delete;
  job& operator=(const job&) = delete;

  [[nodiscard]] const layout& where() const noexcept;
  /// Prints "taskpipe: error: <message>" on standard error and aborts every rank of the job with status `code`.
  [[noreturn]] void abort(const std::string& message, int code = 1) const;
  /// Waits until every rank arrives; past `timeout_s` throws mpi::comm_timeout naming `what`.
  void barrier(double timeout_s, const std::string& what) const;
  /// Collective: every rank passes as many values; world rank 0 gets them all, rank by rank (world rank w's at
  /// w x size), the others an empty vector. Past `timeout_s` throws mpi::comm_timeout naming `what`.
  [[nodiscard]] std::vector<double> gather(std::span<const double> mine, double timeout_s,
                                           const std::string& what) const;

  detail::comms& comms() noexcept;

 private:
  layout m_where;
  std::unique_ptr<detail::comms> m_comms;
};

}  // namespace taskpipe::mpi
