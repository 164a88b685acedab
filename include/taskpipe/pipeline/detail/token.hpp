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

using pipeline_clock = std::chrono::steady_clock;

inline std::int64_t to_ns(pipeline_clock::duration d) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

struct token {
  std::uint64_t seq = 0;
  std::int32_t live = -1;  // index of the stage whose output the slot holds, -1 when empty
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
        storage_(static_cast<std::byte*>(::operator new(stride_ * count, std::align_val_t{align_}))) {
    for (std::size_t i = 0; i < count; ++i) {
      tokens_[i].slot = storage_ + i * stride_;
    }
  }
  ~token_pool() { ::operator delete(storage_, std::align_val_t{align_}); }
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
