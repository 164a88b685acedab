// The fork-join workloads of ../shared/BENCHMARKS.md (fib, skynet, nqueens, matmul), written once against a small
// "forker" interface so that the serial baseline, taskpipe and oneTBB run exactly the same code:
//
//   typename Forker::group g{forker};  g.spawn(callable);  g.wait();
//
// The serial forker runs each spawned callable at once, which the compiler inlines into plain recursion.
// Used by `taskpipe bench` and bench/forkjoin.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::workloads {

struct serial_forker {
  struct group {
    explicit group(serial_forker& /*f*/) noexcept {}
    template <class F>
    void spawn(F&& f) {
      f();
    }
    void wait() noexcept {}
  };
};

struct taskpipe_forker {
  executor* ex;
  struct group {
    explicit group(taskpipe_forker& f) noexcept : g(*f.ex) {}
    template <class F>
    void spawn(F&& f) {
      g.spawn(std::forward<F>(f));
    }
    void wait() { g.wait(); }
    task_group g;
  };
};

// fib: two forks a level, no cutoff.
template <class Forker>
std::int64_t fib(Forker& fk, int n) {
  if (n < 2) {
    return n;
  }
  std::int64_t a = 0;
  typename Forker::group g{fk};
  g.spawn([&fk, &a, n] { a = fib(fk, n - 1); });
  const std::int64_t b = fib(fk, n - 2);
  g.wait();
  return a + b;
}

/// Tasks spawned by fib(n): one per internal node of its call tree.
inline std::int64_t fib_spawns(int n) {
  std::int64_t a = 0;
  std::int64_t b = 1;  // fib(n + 1) - 1 internal nodes
  for (int i = 0; i < n + 1; ++i) {
    const std::int64_t c = a + b;
    a = b;
    b = c;
  }
  return a - 1;
}

// skynet: a 10-ary tree of tasks over [first, first + size); each leaf returns its index, every node sums its children.
template <class Forker>
std::int64_t skynet(Forker& fk, std::int64_t first, std::int64_t size) {
  if (size == 1) {
    return first;
  }
  std::array<std::int64_t, 10> parts{};
  const std::int64_t step = size / 10;
  typename Forker::group g{fk};
  for (std::int64_t i = 0; i < 10; ++i) {
    g.spawn([&fk, &parts, first, step, i] { parts[static_cast<std::size_t>(i)] = skynet(fk, first + i * step, step); });
  }
  g.wait();
  std::int64_t sum = 0;
  for (auto p : parts) {
    sum += p;
  }
  return sum;
}

// nqueens: count the placements of n queens; fork per legal column.
struct queens_board {
  std::array<std::uint8_t, 16> column_of_row{};
};

inline bool queen_fits(const queens_board& b, int row, int col) {
  for (int r = 0; r < row; ++r) {
    const int c = b.column_of_row[static_cast<std::size_t>(r)];
    if (c == col || c - col == row - r || col - c == row - r) {
      return false;
    }
  }
  return true;
}

template <class Forker>
std::int64_t nqueens(Forker& fk, int n, int row, const queens_board& b) {
  if (row == n) {
    return 1;
  }
  std::array<std::int64_t, 16> counts{};
  typename Forker::group g{fk};
  for (int col = 0; col < n; ++col) {
    if (!queen_fits(b, row, col)) {
      continue;
    }
    queens_board next = b;
    next.column_of_row[static_cast<std::size_t>(row)] = static_cast<std::uint8_t>(col);
    g.spawn(
        [&fk, &counts, next, n, row, col] { counts[static_cast<std::size_t>(col)] = nqueens(fk, n, row + 1, next); });
  }
  g.wait();
  std::int64_t sum = 0;
  for (auto c : counts) {
    sum += c;
  }
  return sum;
}

template <class Forker>
std::int64_t nqueens(Forker& fk, int n) {
  return nqueens(fk, n, 0, queens_board{});
}

/// Known solution counts, the oracle for n <= 14.
inline std::int64_t nqueens_solutions(int n) {
  static constexpr std::array<std::int64_t, 15> known{1,  1,   0,   0,    2,     10,    4,     40,
                                                      92, 352, 724, 2680, 14200, 73712, 365596};
  return known.at(static_cast<std::size_t>(n));
}

// matmul: C += A * B on n x n row-major blocks inside matrices of leading dimension ld; four forks a level (the four
// quadrants of C are independent), two rounds per level. Base case: a serial i-k-j loop on 64 x 64 blocks.
inline constexpr std::size_t matmul_leaf = 64;

// Never inlined, so that serial, taskpipe and oneTBB run the very same machine code for the leaves: inlined into
// each instantiation, the compiler vectorised it differently and the comparison measured code generation.
[[gnu::noinline]] inline void matmul_leaf_kernel(const float* a, const float* b, float* c, std::size_t n,
                                                 std::size_t ld) {
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < n; ++k) {
      const float aik = a[i * ld + k];
      for (std::size_t j = 0; j < n; ++j) {
        c[i * ld + j] += aik * b[k * ld + j];
      }
    }
  }
}

template <class Forker>
void matmul(Forker& fk, const float* a, const float* b, float* c, std::size_t n, std::size_t ld) {
  if (n <= matmul_leaf) {
    matmul_leaf_kernel(a, b, c, n, ld);
    return;
  }
  const std::size_t h = n / 2;
  const float* a00 = a;
  const float* a01 = a + h;
  const float* a10 = a + h * ld;
  const float* a11 = a + h * ld + h;
  const float* b00 = b;
  const float* b01 = b + h;
  const float* b10 = b + h * ld;
  const float* b11 = b + h * ld + h;
  float* c00 = c;
  float* c01 = c + h;
  float* c10 = c + h * ld;
  float* c11 = c + h * ld + h;
  {
    typename Forker::group g{fk};
    g.spawn([=, &fk] { matmul(fk, a00, b00, c00, h, ld); });
    g.spawn([=, &fk] { matmul(fk, a00, b01, c01, h, ld); });
    g.spawn([=, &fk] { matmul(fk, a10, b00, c10, h, ld); });
    matmul(fk, a10, b01, c11, h, ld);
    g.wait();
  }
  {
    typename Forker::group g{fk};
    g.spawn([=, &fk] { matmul(fk, a01, b10, c00, h, ld); });
    g.spawn([=, &fk] { matmul(fk, a01, b11, c01, h, ld); });
    g.spawn([=, &fk] { matmul(fk, a11, b10, c10, h, ld); });
    matmul(fk, a11, b11, c11, h, ld);
    g.wait();
  }
}

/// Inputs for matmul of size n (a power of two >= matmul_leaf), deterministic so results can be compared.
///
/// The layout is fixed, so that the kernel's speed does not depend on where malloc happens to put three 4 MiB blocks:
/// with rows exactly 4 KiB apart and A, B, C at whatever offsets the allocator chose, serial 1024 x 1024 took
/// 150-250 ms on the reference machine from one allocation to the next (4K aliasing between B's loads and C's stores,
/// cache-set conflicts), and that lottery, not the scheduler, decided taskpipe against oneTBB. Here the three matrices
/// live in one buffer, each starts on a 64-byte boundary, and a row is padded by one cache line (ld = n + 16): the
/// same kernel then takes about 130 ms, allocation after allocation.
class matmul_inputs {
 public:
  static constexpr std::size_t row_padding = 16;  // floats: one 64-byte cache line

  explicit matmul_inputs(std::size_t size) : n(size), ld(size + row_padding), storage_(3 * n * ld + alignment_floats) {
    const auto misalignment = reinterpret_cast<std::uintptr_t>(storage_.data()) % (alignment_floats * sizeof(float));
    first_ = misalignment == 0 ? 0 : alignment_floats - misalignment / sizeof(float);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        a()[i * ld + j] = static_cast<float>((i * n + j) % 7) * 0.25F;
        b()[i * ld + j] = static_cast<float>((i * n + j) % 5) * 0.5F;
      }
    }
  }

  // A copy would get a new buffer with the old alignment offset; moving keeps the buffer, so the offset stays right.
  matmul_inputs(const matmul_inputs&) = delete;
  matmul_inputs& operator=(const matmul_inputs&) = delete;
  matmul_inputs(matmul_inputs&&) noexcept = default;
  matmul_inputs& operator=(matmul_inputs&&) noexcept = default;
  ~matmul_inputs() = default;

  std::size_t n;   ///< matrices are n x n
  std::size_t ld;  ///< leading dimension: distance between rows, in floats

  [[nodiscard]] float* a() noexcept { return storage_.data() + first_; }
  [[nodiscard]] float* b() noexcept { return a() + n * ld; }
  [[nodiscard]] float* c() noexcept { return b() + n * ld; }

  void clear_c() noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      std::fill_n(c() + i * ld, n, 0.0F);
    }
  }
  /// Sum of C's n x n elements (padding excluded), as a check that two runs computed the same product.
  [[nodiscard]] double c_sum() noexcept {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        s += static_cast<double>(c()[i * ld + j]);
      }
    }
    return s;
  }

 private:
  static constexpr std::size_t alignment_floats = 16;
  std::vector<float> storage_;
  std::size_t first_ = 0;  // index of A's first element: the first 64-byte boundary in storage_
};

}  // namespace taskpipe::workloads
