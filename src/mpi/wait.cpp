#include <chrono>
#include <cstdio>
#include <thread>

#include "taskpipe/error.hpp"
#include "taskpipe/mpi/comm_timeout.hpp"
#include "taskpipe/mpi/detail/comms.hpp"

namespace taskpipe::mpi::detail {

std::vector<std::byte> recv_message(MPI_Comm comm, int source, int tag, double timeout_s,
                                    const std::function<std::string()>& what) {
  using clock = std::chrono::steady_clock;
  const clock::time_point deadline =
      clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout_s));
  for (int polls = 0;; ++polls) {
    int found = 0;
    MPI_Message message = MPI_MESSAGE_NULL;
    MPI_Status status;
    check(MPI_Improbe(source, tag, comm, &found, &message, &status), "MPI_Improbe");
    if (found != 0) {
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      std::vector<std::byte> data(static_cast<std::size_t>(count));
      check(MPI_Mrecv(data.data(), count, MPI_BYTE, &message, MPI_STATUS_IGNORE), "MPI_Mrecv");
      return data;
    }
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

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", s);
  return text;
}

double sum(double value, MPI_Comm comm, double timeout_s, const std::function<std::string()>& what) {
  double total = 0;
  MPI_Request r = MPI_REQUEST_NULL;
  check(MPI_Iallreduce(&value, &total, 1, MPI_DOUBLE, MPI_SUM, comm, &r), "MPI_Iallreduce");
  wait_all({&r, 1}, timeout_s, what);
  return total;
}

void check(int rc, const char* call) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    MPI_Error_string(rc, text, &length);
    throw error(std::string(call) + " failed: " + text);
  }
}

void wait_all(std::span<MPI_Request> requests, double timeout_s, const std::function<std::string()>& what) {
  using clock = std::chrono::steady_clock;
  const clock::time_point deadline =
      clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout_s));
  // Spin briefly (a message usually follows within microseconds), then sleep between tests so a waiting rank leaves
  // its core to the rank it waits for (two ranks on two cores share them with the OS).
  for (int polls = 0;; ++polls) {
    int done = 0;
    check(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall");
    if (done != 0) {
      return;
    }
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

}  // namespace taskpipe::mpi::detail
