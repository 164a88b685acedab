// bench/common/seeded_random.hpp — the benchmarks' reproducible random numbers: xorshift64 from a seed and a salt,
// so one seed gives the same random chains and models on every machine and run.
#pragma once

#include <cstdint>

namespace taskpipe::bench {

class seeded_random {
 public:
  /// Different salts give different streams from the same seed.
  seeded_random(std::uint64_t seed, std::uint64_t salt) : m_state(seed * 0x9e3779b97f4a7c15ULL + salt) {}

  std::uint64_t next() {
    m_state ^= m_state << 13U;
    m_state ^= m_state >> 7U;
    m_state ^= m_state << 17U;
    return m_state;
  }

 private:
  std::uint64_t m_state;
};

}  // namespace taskpipe::bench
