#include "taskpipe/nn/rng.hpp"

#include <cmath>
#include <numbers>

namespace taskpipe::nn {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t derive_seed(std::uint64_t seed, std::string_view name) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a of the name, then mixed with the seed
  for (const char c : name) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  std::uint64_t x = seed ^ h;
  return splitmix64(x);
}

rng::rng(std::uint64_t seed) noexcept {
  std::uint64_t x = seed;
  for (auto& w : m_s) {
    w = splitmix64(x);
  }
}

std::uint64_t rng::next() noexcept {
  const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
  const std::uint64_t t = m_s[1] << 17;
  m_s[2] ^= m_s[0];
  m_s[3] ^= m_s[1];
  m_s[1] ^= m_s[2];
  m_s[0] ^= m_s[3];
  m_s[2] ^= t;
  m_s[3] = rotl(m_s[3], 45);
  return result;
}

double rng::uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double rng::normal() noexcept {
  if (m_has_spare) {
    m_has_spare = false;
    return m_spare;
  }
  const double u1 = 1.0 - uniform();  // (0, 1]: the logarithm stays finite
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double a = 2.0 * std::numbers::pi * u2;
  m_spare = r * std::sin(a);
  m_has_spare = true;
  return r * std::cos(a);
}

std::uint64_t rng::below(std::uint64_t n) noexcept {
  const std::uint64_t limit = (~std::uint64_t{0} / n) * n;  // reject the top partial bucket
  std::uint64_t x = next();
  while (x >= limit) {
    x = next();
  }
  return x % n;
}

void rng::set_state(const saved& s) noexcept {
  m_s = s.words;
  m_has_spare = s.has_spare;
  m_spare = s.spare;
}

}  // namespace taskpipe::nn
