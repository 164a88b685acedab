// ThreadSanitizer cannot see the atomic reference count libstdc++ keeps on exception objects (libstdc++ is not
// instrumented), so an exception thrown on a worker and caught on another thread looks like a race when the last
// owner frees it. This hook, linked into test binaries that move exceptions between threads, suppresses reports
// from inside libstdc++ itself; races in our code (and in inlined library templates) are still reported.
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {  // NOLINT(readability-identifier-naming): the TSan hook's name
  return "called_from_lib:libstdc++.so.6\n";
}
#endif
