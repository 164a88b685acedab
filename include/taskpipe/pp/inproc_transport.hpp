// taskpipe/pp/inproc_transport.hpp — the transport for ranks that are threads of one process.
//
// One mailbox per receiving rank (a mutex, a condition variable and the messages by sender and tag). An optional
// `latency` delays each delivery, to model a link's communication time (`costs::comm`) without using a core.
// Thread safety: all members may be called concurrently. Throws `taskpipe::invalid_argument` on ranks < 1 or a rank
// out of range, `transport_closed` from `recv` after `close()`.
#pragma once

#include "taskpipe/pp/transport.hpp"

#include <chrono>
#include <memory>

namespace taskpipe::pp {

class inproc_transport final : public transport {
 public:
  explicit inproc_transport(int ranks, std::chrono::nanoseconds latency = std::chrono::nanoseconds{0});
  ~inproc_transport() override;
  inproc_transport(const inproc_transport&) = delete;
  inproc_transport& operator=(const inproc_transport&) = delete;

  int ranks() const noexcept override;
  void send(int from_rank, int to_rank, const message_tag& tag, payload data) override;
  payload recv(int to_rank, int from_rank, const message_tag& tag) override;
  void close() override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace taskpipe::pp
