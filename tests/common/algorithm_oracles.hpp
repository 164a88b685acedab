// Inputs and operations for testing parallel algorithms against their std:: counterparts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "taskpipe/algorithm/partitioner.hpp"

namespace taskpipe::test {

/// 2x2 matrices over integers mod 2^32 under multiplication: associative, not commutative, so a parallel fold or scan
/// that reorders operands gives a different answer.
struct mat2 {
  std::uint32_t a = 1, b = 0, c = 0, d = 1;
  friend bool operator==(const mat2&, const mat2&) = default;
};

struct mat2_mul {
  mat2 operator()(const mat2& x, const mat2& y) const noexcept {
    return {x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c, x.c * y.b + x.d * y.d};
  }
};

inline std::vector<mat2> random_mats(std::mt19937_64& rng, std::size_t n) {
  std::vector<mat2> v(n);
  for (auto& m : v) {
    m = {static_cast<std::uint32_t>(rng() % 7), static_cast<std::uint32_t>(rng() % 7),
         static_cast<std::uint32_t>(rng() % 7), static_cast<std::uint32_t>(rng() % 7)};
  }
  return v;
}

/// Sizes worth testing: empty, one element, odd and small, and a few larger ones.
inline std::vector<std::size_t> interesting_sizes() { return {0, 1, 2, 3, 7, 64, 1000, 4097, 33'333, 100'001}; }

inline std::vector<partitioner> all_partitioners() {
  return {auto_partitioner(),       auto_partitioner(7),   static_partitioner(),
          static_partitioner(1000), dynamic_partitioner(), dynamic_partitioner(3)};
}

}  // namespace taskpipe::test
