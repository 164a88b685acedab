#include "taskpipe/mpi/mpi_transport.hpp"

#include <chrono>
#include <list>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "taskpipe/error.hpp"
#include "taskpipe/mpi/comm_timeout.hpp"
#include "taskpipe/mpi/detail/comms.hpp"

namespace taskpipe::mpi {
namespace {

constexpr int max_microbatches = 4096;

int encode(const pp::message_tag& t) {
  return (t.stage * max_microbatches + t.microbatch) * 2 + (t.direction == pp::flow::gradient ? 1 : 0);
}

struct pending_send {
  MPI_Request request = MPI_REQUEST_NULL;
  pp::payload data;
};

struct posted_recv {
  MPI_Request request = MPI_REQUEST_NULL;
  pp::payload data;
};

}  // namespace

struct mpi_transport::impl {
  MPI_Comm comm = MPI_COMM_NULL;
  layout where;
  double timeout_s = 60;
  bool closed = false;
  std::list<pending_send> sends;
  std::map<std::pair<int, int>, posted_recv> posted;  // (from rank, tag)
  std::uint64_t sent = 0;
  std::uint64_t received = 0;

  void reap() {
    for (auto it = sends.begin(); it != sends.end();) {
      int done = 0;
      detail::check(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      it = done != 0 ? sends.erase(it) : std::next(it);
    }
  }

  std::string waiting_for(int from_rank, const pp::message_tag& tag) const {
    return where.describe(where.world_rank) + " waited more than " + detail::seconds_text(timeout_s) + " for " +
           where.describe(where.world_of(where.replica, from_rank)) + ": stage " + std::to_string(tag.stage) +
           " micro-batch " + std::to_string(tag.microbatch) + " " +
           (tag.direction == pp::flow::activation ? "activation (forward)" : "gradient (backward)");
  }
};

mpi_transport::mpi_transport(job& j, double timeout_s) : m(std::make_unique<impl>()) {
  m->comm = j.comms().pipeline;
  m->where = j.where();
  m->timeout_s = timeout_s;
  int* upper = nullptr;
  int found = 0;
  MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &upper, &found);
  const int needed = encode({1024, max_microbatches - 1, pp::flow::gradient});
  if (found != 0 && *upper < needed) {
    throw error("mpi_transport: this MPI's largest tag is " + std::to_string(*upper) + "; taskpipe needs " +
                std::to_string(needed));
  }
}

mpi_transport::~mpi_transport() {
  for (auto& [key, r] : m->posted) {
    if (r.request != MPI_REQUEST_NULL) {
      MPI_Cancel(&r.request);
      MPI_Request_free(&r.request);
    }
  }
}

int mpi_transport::ranks() const noexcept { return m->where.ranks; }

void mpi_transport::send(int, int to_rank, const pp::message_tag& tag, pp::payload data) {
  if (tag.microbatch >= max_microbatches) {
    throw invalid_argument("mpi_transport: micro-batch " + std::to_string(tag.microbatch) +
                           " >= " + std::to_string(max_microbatches));
  }
  m->reap();
  pending_send& s = m->sends.emplace_back();
  s.data = std::move(data);
  m->sent += s.data.size();
  detail::check(
      MPI_Isend(s.data.data(), static_cast<int>(s.data.size()), MPI_BYTE, to_rank, encode(tag), m->comm, &s.request),
      "MPI_Isend");
}

void mpi_transport::expect(int from_rank, const pp::message_tag& tag, std::size_t bytes) {
  posted_recv& r = m->posted[{from_rank, encode(tag)}];
  r.data.resize(bytes);
  detail::check(
      MPI_Irecv(r.data.data(), static_cast<int>(bytes), MPI_BYTE, from_rank, encode(tag), m->comm, &r.request),
      "MPI_Irecv");
}

pp::payload mpi_transport::recv(int, int from_rank, const pp::message_tag& tag) {
  if (m->closed) {
    throw pp::transport_closed("mpi_transport: closed");
  }
  const auto what = [&] { return m->waiting_for(from_rank, tag); };
  const auto it = m->posted.find({from_rank, encode(tag)});
  if (it != m->posted.end()) {
    detail::wait_all({&it->second.request, 1}, m->timeout_s, what);
    pp::payload data = std::move(it->second.data);
    m->posted.erase(it);
    m->received += data.size();
    return data;
  }
  // Not expected: probe for it, then receive it whole.
  using clock = std::chrono::steady_clock;
  const clock::time_point deadline =
      clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(m->timeout_s));
  for (int polls = 0;; ++polls) {
    int found = 0;
    MPI_Status status;
    detail::check(MPI_Iprobe(from_rank, encode(tag), m->comm, &found, &status), "MPI_Iprobe");
    if (found != 0) {
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      pp::payload data(static_cast<std::size_t>(count));
      detail::check(MPI_Recv(data.data(), count, MPI_BYTE, from_rank, encode(tag), m->comm, MPI_STATUS_IGNORE),
                    "MPI_Recv");
      m->received += data.size();
      return data;
    }
    m->reap();
    if (clock::now() > deadline) {
      throw comm_timeout(what());
    }
    if (polls < 200) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
}

void mpi_transport::flush() {
  std::vector<MPI_Request> requests;
  for (pending_send& s : m->sends) {
    requests.push_back(s.request);
  }
  detail::wait_all(requests, m->timeout_s, [&] {
    return m->where.describe(m->where.world_rank) + " waited more than " + detail::seconds_text(m->timeout_s) +
           " for its sends to its pipeline neighbours to complete";
  });
  m->sends.clear();
}

void mpi_transport::close() { m->closed = true; }

std::uint64_t mpi_transport::bytes_sent() const noexcept { return m->sent; }
std::uint64_t mpi_transport::bytes_received() const noexcept { return m->received; }

}  // namespace taskpipe::mpi
