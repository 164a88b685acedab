#include "taskpipe/mpi/job.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "taskpipe/error.hpp"
#include "taskpipe/mpi/detail/comms.hpp"

namespace taskpipe::mpi {
namespace {

int env_int(const char* open_mpi, const char* pmi, int fallback) noexcept {
  for (const char* name : {open_mpi, pmi}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') {
      return std::atoi(v);
    }
  }
  return fallback;
}

}  // namespace

bool launched_by_mpirun() noexcept {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr;
}

int world_size_from_env() noexcept { return env_int("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", 1); }
int world_rank_from_env() noexcept { return env_int("OMPI_COMM_WORLD_RANK", "PMI_RANK", 0); }

std::string layout::describe(int world) const {
  return "rank " + std::to_string(world) + " (replica " + std::to_string(world / ranks) + ", pipeline rank " +
         std::to_string(world % ranks) + ")";
}

job::job(int replicas, int ranks) : m_comms(std::make_unique<detail::comms>()) {
  detail::check(MPI_Init(nullptr, nullptr), "MPI_Init");
  int size = 0;
  int rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (size != replicas * ranks) {
    MPI_Finalize();
    throw invalid_argument("mpirun started " + std::to_string(size) + " ranks; --dp " + std::to_string(replicas) +
                           " x --pp " + std::to_string(ranks) + " needs " + std::to_string(replicas * ranks));
  }
  m_where = {.replicas = replicas,
             .ranks = ranks,
             .replica = rank / ranks,
             .rank = rank % ranks,
             .world_rank = rank,
             .world_size = size};
  detail::check(MPI_Comm_split(MPI_COMM_WORLD, m_where.replica, m_where.rank, &m_comms->pipeline), "MPI_Comm_split");
  detail::check(MPI_Comm_split(MPI_COMM_WORLD, m_where.rank, m_where.replica, &m_comms->replicas), "MPI_Comm_split");
}

job::~job() {
  MPI_Comm_free(&m_comms->pipeline);
  MPI_Comm_free(&m_comms->replicas);
  MPI_Finalize();
}

const layout& job::where() const noexcept { return m_where; }
detail::comms& job::comms() noexcept { return *m_comms; }

void job::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "taskpipe: error: %s\n", message.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; should it, the process still ends
}

void job::barrier(double timeout_s, const std::string& what) const {
  MPI_Request r = MPI_REQUEST_NULL;
  detail::check(MPI_Ibarrier(MPI_COMM_WORLD, &r), "MPI_Ibarrier");
  detail::wait_all({&r, 1}, timeout_s, [&] {
    return m_where.describe(m_where.world_rank) + " waited more than " + detail::seconds_text(timeout_s) +
           " for the other ranks to reach " + what;
  });
}

std::vector<double> job::gather(std::span<const double> mine, double timeout_s, const std::string& what) const {
  std::vector<double> all(m_where.world_rank == 0 ? mine.size() * static_cast<std::size_t>(m_where.world_size) : 0);
  MPI_Request r = MPI_REQUEST_NULL;
  detail::check(MPI_Igather(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, all.data(),
                            static_cast<int>(mine.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD, &r),
                "MPI_Igather");
  detail::wait_all({&r, 1}, timeout_s, [&] {
    return m_where.describe(m_where.world_rank) + " waited more than " + detail::seconds_text(timeout_s) +
           " for the other ranks to reach " + what;
  });
  return all;
}

}  // namespace taskpipe::mpi
