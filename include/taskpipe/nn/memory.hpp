// taskpipe/nn/memory.hpp — memory accounting for the neural-net layer: every tensor's bytes belong to a category.
//
// Contract: a `memory_ledger` counts the bytes currently held and the high-water mark of each category. Tensors
// register with a ledger when they allocate and deregister when they free, so after a training step `peak()` tells
// what that step needed, category by category. A second high-water mark, the window's, is restarted by
// `start_window` without touching `peak()`: read around one pass, it tells the most that pass held at once (its
// transient working memory included), while the step's peak keeps counting. A ledger is shared by the tensors of one
// worker (a stage or a replica), so each worker's memory can be read on its own. Thread safety: `allocate`, `release`
// and the readers may be called from any thread at once (atomics, relaxed for counters; the peak is a monotone
// compare-and-swap). `reset_peaks` is meant for a quiescent moment between steps. Nothing here throws.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <string_view>

namespace taskpipe::nn {

/// What a tensor's bytes are for. `workspace` is scratch that lives within one op call.
enum class memory_category { parameters, gradients, optimizer, activations, workspace };
inline constexpr std::size_t memory_category_count = 5;

/// "parameters", "gradients", "optimizer", "activations" or "workspace".
std::string_view to_string(memory_category c) noexcept;

class memory_ledger {
 public:
  memory_ledger() = default;
  memory_ledger(const memory_ledger&) = delete;
  memory_ledger& operator=(const memory_ledger&) = delete;

  void allocate(memory_category c, std::size_t bytes) noexcept;
  void release(memory_category c, std::size_t bytes) noexcept;

  /// Bytes held now in `c`.
  std::size_t current(memory_category c) const noexcept;
  /// The most bytes `c` has held at once since construction or the last `reset_peaks`.
  std::size_t peak(memory_category c) const noexcept;
  /// The most bytes held at once over all categories together.
  std::size_t peak_total() const noexcept;
  /// Bytes held now over all categories.
  std::size_t current_total() const noexcept;
  /// Sets every peak to the current figure.
  void reset_peaks() noexcept;
  /// Sets every window peak to the current figure (the step's `peak` is untouched).
  void start_window() noexcept;
  /// The most bytes `c` has held at once since the last `start_window` (or construction).
  std::size_t window_peak(memory_category c) const noexcept;
  /// How far `c` rose above `level` since the last `start_window` (0 if it never did): a pass's working memory, read
  /// with `level` the bytes the pass is known to hold anyway.
  std::size_t window_rise(memory_category c, std::size_t level) const noexcept;

 private:
  struct counter {
    std::atomic<std::size_t> current{0};
    std::atomic<std::size_t> peak{0};
    std::atomic<std::size_t> window{0};
  };
  std::array<counter, memory_category_count> m_counters{};
  counter m_total{};
};

}  // namespace taskpipe::nn
