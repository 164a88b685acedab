// CPU time used by the whole test process, to check that idle or waiting threads sleep instead of spinning.
#pragma once

#include <sys/resource.h>

namespace taskpipe::test {

inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

}  // namespace taskpipe::test
