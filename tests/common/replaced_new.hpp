// The body shared by the test binaries' replacements of the global operator new (counting_new.hpp, failing_new.hpp):
// every form of new asks `taskpipe::test::on_allocation()` first — which the including header defines before it
// includes this one — and throws std::bad_alloc when it says no; every form of delete frees. Never include it
// directly: include one of those headers, in exactly one file of a test binary of its own.
#pragma once

#include <cstdlib>
#include <new>

// The replacements pair malloc with free; GCC sees through the inlined operators and warns that free() meets a
// pointer from "operator new", which is exactly what replacing both is allowed to do.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
  if (taskpipe::test::on_allocation()) {
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
      return p;
    }
  }
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  const auto a = static_cast<std::size_t>(align);
  if (taskpipe::test::on_allocation()) {
    if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) {
      return p;
    }
  }
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/, std::align_val_t /*align*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*size*/, std::align_val_t /*align*/) noexcept { std::free(p); }
