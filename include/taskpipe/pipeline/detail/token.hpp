// detail/token.hpp — the item slots a run works with: exactly max_in_flight of them, allocated once per run.
//
// Holding a token is the right to have one item alive, so counting tokens is how every strategy enforces
// max_in_flight. A token records which stage last produced the item in its slot, so an abandoned run can destroy it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "taskpipe/pipeline/detail/stage.hpp"

namespace taskpipe::detail {

/// The clock stage executions are timed with: the CPU's time-stamp counter where there is an invariant one (a few
/// nanoseconds to read, where clock_gettime can cost far more on virtual machines), steady_clock elsewhere. Times stay
/// in ticks on the hot path; `ns_per_tick()` converts when a run's statistics are assembled.
struct pipeline_clock {
  using time_point = std::int64_t;
  static time_point now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return static_cast<time_point>(__builtin_ia32_rdtsc());
#else
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
#endif
  }
  /// Calibrated once per process against steady_clock (about a millisecond, on the first call).
  static double ns_per_tick() noexcept;
};

inline std::int64_t elapsed_ticks(std::int64_t d) noexcept { return d; }

struct token {
  std::uint64_t seq = 0;
  std::int32_t live = -1;  // index of the stage whose output the slot holds, -1 when empty
  bool timed = false;      // this item's stage executions are timed (see recorder::timed)
  token* next = nullptr;   // free list, or a serial stage's waiting queue
  pipeline_clock::time_point born{};
  pipeline_clock::time_point parked{};
  void* slot = nullptr;
};

class token_pool {
 public:
  token_pool(const chain& c, std::size_t count)
      : stride_((c.slot_size + c.slot_align - 1) / c.slot_align * c.slot_align),
        align_(c.slot_align),
        tokens_(count),
        storage_(static_cast<std::byte*>(::operator new (stride_* count, std::align_val_t{align_}))) {
    for (std::size_t i = 0; i < count; ++i) {
      tokens_[i].slot = storage_ + i * stride_;
    }
  }
  ~token_pool() { ::operator delete (storage_, std::align_val_t{align_}); }
  token_pool(const token_pool&) = delete;
  token_pool& operator=(const token_pool&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return tokens_.size(); }
  token& operator[](std::size_t i) noexcept { return tokens_[i]; }

  /// Destroys every item still in a slot (after a failed run; a finished run leaves none).
  void destroy_leftovers(const chain& c) noexcept {
    for (auto& t : tokens_) {
      if (t.live >= 0) {
        c.stages[static_cast<std::size_t>(t.live)]->destroy_output(t.slot);
        t.live = -1;
      }
    }
  }

 private:
  std::size_t stride_;
  std::size_t align_;
  std::vector<token> tokens_;
  std::byte* storage_;
};

}  // namespace taskpipe::detail
