// Shared fork-join workloads for the runtime tests, each with its sequential oracle.
#pragma once

#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::test {

inline long serial_fib(int n) { return n < 2 ? n : serial_fib(n - 1) + serial_fib(n - 2); }

inline long fib(executor& ex, int n) {
  if (n < 2) {
    return n;
  }
  long a = 0;
  task_group g{ex};
  g.spawn([&] { a = fib(ex, n - 1); });
  const long b = fib(ex, n - 2);
  g.wait();
  return a + b;
}

}  // namespace taskpipe::test
