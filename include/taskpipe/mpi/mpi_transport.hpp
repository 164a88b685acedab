// taskpipe/mpi/mpi_transport.hpp — pp::transport between the pipeline ranks of one replica, each an MPI process.
//
// A message's MPI tag encodes its (stage, micro-batch, direction): ((stage·4096 + micro-batch)·2 + direction), so
// messages are matched by tag, never by arrival order. `send` is MPI_Isend (the payload is kept until the send
// completes: it never blocks on the receiver); `expect` posts an MPI_Irecv ahead of time, and the stage runtime's
// `recv` then completes that request, or probes for a message no one expected. Posting the receives in the schedule's
// order, before the run, keeps the dry run's argument of `pp::validate`: every send finds its receive posted.
// A receive that waits longer than `timeout_s` throws mpi::comm_timeout naming both world ranks, the stage, the
// micro-batch and the direction. `close` makes every later receive throw pp::transport_closed.
// Thread safety: one thread per process (the rank's), as MPI was initialised without thread support.
#pragma once

#include <cstdint>
#include <memory>

#include "taskpipe/mpi/job.hpp"
#include "taskpipe/pp/transport.hpp"

namespace taskpipe::mpi {

class mpi_transport final : public pp::transport {
 public:
  /// Connects the pipeline ranks of this process's replica in `j`.
  mpi_transport(job& j, double timeout_s);
  ~mpi_transport() override;
  mpi_transport(const mpi_transport&) = delete;
  mpi_transport& operator=(const mpi_transport&) = delete;

  int ranks() const noexcept override;
  void send(int from_rank, int to_rank, const pp::message_tag& tag, pp::payload data) override;
  pp::payload recv(int to_rank, int from_rank, const pp::message_tag& tag) override;
  void close() override;

  /// Posts the receive of `bytes` bytes from pipeline rank `from_rank` for `tag` now.
  void expect(int from_rank, const pp::message_tag& tag, std::size_t bytes);
  /// Waits (bounded by the timeout) until every send has completed, so their buffers may go.
  void flush();

  [[nodiscard]] std::uint64_t bytes_sent() const noexcept;
  [[nodiscard]] std::uint64_t bytes_received() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> m;
};

}  // namespace taskpipe::mpi
