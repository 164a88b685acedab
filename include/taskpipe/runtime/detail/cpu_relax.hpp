// detail/cpu_relax.hpp — the spin-wait hint: tells the core this thread is waiting on memory another core writes
// (x86 `pause`, AArch64 `yield`), which saves power and the pipeline flush on the way out of the loop. Does nothing
// on other architectures.
#pragma once

namespace taskpipe::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace taskpipe::detail
