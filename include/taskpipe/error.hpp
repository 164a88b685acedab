// taskpipe/error.hpp — the exception types taskpipe throws on bad input.
//
// Contract: every error the library reports about *its own* input (a bad option, a malformed schedule, a cycle in a
// graph) is a `taskpipe::error` or a child of it, with a message naming the bad value and what is accepted.
// Exceptions thrown by user tasks are never wrapped: they are rethrown unchanged at `wait()` / `get()`.
#pragma once

#include <stdexcept>
#include <string>

namespace taskpipe {

/// Base of every exception taskpipe raises itself.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A parameter outside its accepted range, e.g. `executor_options{.workers = 0}`.
class invalid_argument : public error {
 public:
  using error::error;
};

}  // namespace taskpipe
