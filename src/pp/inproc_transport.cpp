#include "taskpipe/pp/inproc_transport.hpp"

#include <condition_variable>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace taskpipe::pp {

namespace {

using clock = std::chrono::steady_clock;

struct letter {
  int from;
  message_tag tag;
  clock::time_point deliver_at;
  payload data;
};

struct mailbox {
  std::mutex mutex;
  std::condition_variable arrived;
  std::list<letter> letters;  // few at a time: a linear search is cheaper than a map
};

}  // namespace

struct inproc_transport::impl {
  std::chrono::nanoseconds latency;
  std::vector<mailbox> boxes;
  std::mutex closed_mutex;
  bool closed = false;

  impl(int ranks, std::chrono::nanoseconds lat) : latency(lat), boxes(static_cast<std::size_t>(ranks)) {}

  void check(int rank, const char* what) const {
    if (rank < 0 || rank >= static_cast<int>(boxes.size())) {
      throw invalid_argument(std::string(what) + " rank " + std::to_string(rank) + " out of range 0.." +
                             std::to_string(static_cast<int>(boxes.size()) - 1));
    }
  }
};

inproc_transport::inproc_transport(int ranks, std::chrono::nanoseconds latency) {
  if (ranks < 1) {
    throw invalid_argument("inproc_transport: ranks = " + std::to_string(ranks) + ": must be >= 1");
  }
  if (latency.count() < 0) {
    throw invalid_argument("inproc_transport: latency must be >= 0");
  }
  impl_ = std::make_unique<impl>(ranks, latency);
}

inproc_transport::~inproc_transport() = default;

int inproc_transport::ranks() const noexcept { return static_cast<int>(impl_->boxes.size()); }

void inproc_transport::send(int from_rank, int to_rank, const message_tag& tag, payload data) {
  impl_->check(from_rank, "sending");
  impl_->check(to_rank, "receiving");
  mailbox& box = impl_->boxes[static_cast<std::size_t>(to_rank)];
  {
    const std::lock_guard lock{box.mutex};
    box.letters.push_back({from_rank, tag, clock::now() + impl_->latency, std::move(data)});
  }
  box.arrived.notify_all();
}

payload inproc_transport::recv(int to_rank, int from_rank, const message_tag& tag) {
  impl_->check(from_rank, "sending");
  impl_->check(to_rank, "receiving");
  mailbox& box = impl_->boxes[static_cast<std::size_t>(to_rank)];
  std::unique_lock lock{box.mutex};
  for (;;) {
    {
      const std::lock_guard closed_lock{impl_->closed_mutex};
      if (impl_->closed) {
        throw transport_closed("transport closed while rank " + std::to_string(to_rank) +
                               " waited for a message from rank " + std::to_string(from_rank));
      }
    }
    for (auto it = box.letters.begin(); it != box.letters.end(); ++it) {
      if (it->from == from_rank && it->tag == tag) {
        letter found = std::move(*it);
        box.letters.erase(it);
        lock.unlock();
        // The modelled link latency: the message is there, but not before it would have crossed the link.
        std::this_thread::sleep_until(found.deliver_at);
        return std::move(found.data);
      }
    }
    box.arrived.wait(lock);
  }
}

void inproc_transport::close() {
  {
    const std::lock_guard lock{impl_->closed_mutex};
    impl_->closed = true;
  }
  for (auto& box : impl_->boxes) {
    // Taking the box's lock orders the flag before a receiver's next check, so no wake-up is lost.
    const std::lock_guard lock{box.mutex};
    box.arrived.notify_all();
  }
}

}  // namespace taskpipe::pp
