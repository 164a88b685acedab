// taskpipe/pp/transport.hpp — how the stage runtime moves activations and gradients between ranks.
//
// Contract: `send` never blocks on the receiver (messages are buffered), `recv` blocks until the message with that
// tag from that rank arrives, so the runtime behaves as `pp::validate`'s dry run assumes. Messages are matched by
// tag, not by arrival order. After `close()` every blocked and later `recv` throws `transport_closed`; the runtime
// closes the transport when a rank fails so the other ranks do not wait forever. Implementations must allow one
// thread per rank to call `send`/`recv` concurrently.
#pragma once

#include "taskpipe/error.hpp"

#include <cstddef>
#include <vector>

namespace taskpipe::pp {

using payload = std::vector<std::byte>;

enum class flow : unsigned char { activation, gradient };

/// Names one transfer: the stage that will consume it, the micro-batch, and whether it flows forward or backward.
struct message_tag {
  int stage = 0;
  int microbatch = 0;
  flow direction = flow::activation;

  friend bool operator==(const message_tag&, const message_tag&) = default;
};

class transport_closed : public taskpipe::error {
 public:
  using taskpipe::error::error;
};

class transport {
 public:
  virtual ~transport() = default;

  virtual int ranks() const noexcept = 0;
  virtual void send(int from_rank, int to_rank, const message_tag& tag, payload data) = 0;
  virtual payload recv(int to_rank, int from_rank, const message_tag& tag) = 0;
  virtual void close() = 0;
};

}  // namespace taskpipe::pp
