// Uses only the installed MPI layer: a one-rank job (Open MPI's singleton start when run without mpirun) reports its
// layout, and a barrier completes.
#include <taskpipe/mpi/job.hpp>

#include <cstdio>

int main() {
  taskpipe::mpi::job j(1, 1);
  j.barrier(30, "the consumer's barrier");
  const taskpipe::mpi::layout& w = j.where();
  std::printf("taskpipe mpi: %s of %d\n", w.describe(w.world_rank).c_str(), w.world_size);
  return w.world_size == 1 && w.world_rank == 0 ? 0 : 1;
}
