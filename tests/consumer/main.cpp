// Uses only the installed headers and library: fork-join fib and an async future, checked against known answers.
#include <taskpipe/taskpipe.hpp>

#include <cstdio>

namespace {

long fib(taskpipe::executor& ex, int n) {
  if (n < 2) {
    return n;
  }
  long a = 0;
  taskpipe::task_group g{ex};
  g.spawn([&] { a = fib(ex, n - 1); });
  const long b = fib(ex, n - 2);
  g.wait();
  return a + b;
}

}  // namespace

int main() {
  taskpipe::executor ex{{.workers = 2}};
  const long f = ex.async([&] { return fib(ex, 25); }).get();
  std::printf("taskpipe %s: fib(25) = %ld\n", taskpipe::version_string, f);
  return f == 75025 ? 0 : 1;
}
