// pp/detail/thread_start.hpp — where the stage runtime starts a rank's thread, with a hook for tests.
//
// A thread that cannot start (std::system_error from std::thread, out of memory for its state) is a failure path
// that a machine rarely shows on demand; a test sets `thread_start_hook` to fail the start of a chosen rank. The
// hook is not for production use: it is a plain global, read without synchronisation while no run is in progress.
#pragma once

#include <thread>
#include <utility>

namespace taskpipe::pp::detail {

/// Called with the rank before its thread starts; may throw to make that start fail. Null: no hook.
inline void (*thread_start_hook)(int rank) = nullptr;

template <class F>
std::thread start_rank_thread(int rank, F&& f) {
  if (thread_start_hook != nullptr) {
    thread_start_hook(rank);
  }
  return std::thread(std::forward<F>(f));
}

}  // namespace taskpipe::pp::detail
