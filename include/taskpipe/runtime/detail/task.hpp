// detail/task.hpp — the unit the scheduler moves around: one cache line holding a callable and where it reports.
//
// A task is a fixed-size block from a per-worker pool, so spawning does not call malloc. Callables up to
// `inline_capacity` bytes live inside the block; larger ones are boxed on the heap (the only allocation a spawn can
// make). `run` executes the callable, destroys it and reports completion to `owner`; the scheduler then recycles
// the block.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace taskpipe::detail {

struct worker;

struct alignas(64) task {
  static constexpr std::size_t inline_capacity = 48;
  using run_fn = void (*)(task&, worker&) noexcept;

  run_fn run = nullptr;
  union {
    void* owner;      // while live: the group or future state this task reports to
    task* next_free;  // while pooled: the next free block
  };
  alignas(16) std::byte storage[inline_capacity];
};
static_assert(sizeof(task) == 64);

/// Whether a callable of type F is stored in the block itself (else boxed on the heap).
template <class F>
consteval bool fits_inline() {
  if (sizeof(F) > task::inline_capacity) {
    return false;
  }
  return alignof(F) <= 16;
}
template <class F>
inline constexpr bool stored_inline = fits_inline<F>();

/// Constructs the callable in the task's storage (or a heap box for a large one).
template <class F, class Arg>
void store_callable(task& t, Arg&& f) {
  if constexpr (stored_inline<F>) {
    ::new (static_cast<void*>(t.storage)) F(std::forward<Arg>(f));
  } else {
    ::new (static_cast<void*>(t.storage)) F*(new F(std::forward<Arg>(f)));
  }
}

template <class F>
F& stored_callable(task& t) noexcept {
  if constexpr (stored_inline<F>) {
    return *std::launder(reinterpret_cast<F*>(t.storage));
  } else {
    return **std::launder(reinterpret_cast<F**>(t.storage));
  }
}

template <class F>
void destroy_callable(task& t) noexcept {
  if constexpr (stored_inline<F>) {
    std::destroy_at(std::launder(reinterpret_cast<F*>(t.storage)));
  } else {
    delete *std::launder(reinterpret_cast<F**>(t.storage));
  }
}

}  // namespace taskpipe::detail
