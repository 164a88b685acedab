// taskpipe/nn/rng.hpp — a portable, seedable random generator: the same seed gives the same bits on every platform.
//
// Contract: `rng` is xoshiro256** seeded through splitmix64, so its stream is fixed by this file and not by the
// standard library's engines or distributions (whose outputs differ between implementations). `uniform()` is a
// double in [0, 1) from the top 53 bits; `normal()` is a standard normal by Box-Muller (pairs, the second cached).
// The whole state (`state()` / `set_state()`) is four words plus the cached normal, so a checkpoint can save it.
// Thread safety: as a value type; one generator per thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace taskpipe::nn {

class rng {
 public:
  struct saved {
    std::array<std::uint64_t, 4> words{};
    bool has_spare = false;
    double spare = 0.0;
  };

  explicit rng(std::uint64_t seed) noexcept;

  /// The next 64 random bits.
  std::uint64_t next() noexcept;
  /// A double in [0, 1).
  double uniform() noexcept;
  /// A standard normal deviate.
  double normal() noexcept;
  /// An integer in [0, n); n > 0. Unbiased (rejection).
  std::uint64_t below(std::uint64_t n) noexcept;

  [[nodiscard]] saved state() const noexcept { return {m_s, m_has_spare, m_spare}; }
  void set_state(const saved& s) noexcept;

 private:
  std::array<std::uint64_t, 4> m_s{};
  bool m_has_spare = false;
  double m_spare = 0.0;
};

/// splitmix64: one step of the mixer that seeds `rng`; also good for deriving independent seeds.
std::uint64_t splitmix64(std::uint64_t& x) noexcept;
/// A seed for the stream of one named tensor: a model's parameters draw from independent streams keyed by name, so
/// a pipeline stage that builds only some layers gets exactly the values the whole model would have.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view name) noexcept;

}  // namespace taskpipe::nn
