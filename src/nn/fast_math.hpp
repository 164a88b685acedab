// src/nn/fast_math.hpp — an exp written so that GCC vectorises the loops that call it (std::exp is an opaque call
// that keeps a loop scalar). Private to the library.
//
// exp_approx: round-to-nearest range reduction x = n·ln2 + r (|r| <= ln2/2) by the 1.5·2^23 trick, a degree-6
// polynomial for e^r (Taylor; relative error below 2e-7 on the interval), and 2^n built in the exponent bits. The
// input is clamped to [-87, 88], so the result is always a normal float (e^-87 stands in for 0 after a max shift).
#pragma once

#include <bit>
#include <cstdint>

namespace taskpipe::nn::detail {

inline float exp_approx(float x) noexcept {
  constexpr float log2e = 1.44269504088896341F;
  constexpr float ln2_hi = 0.693145751953125F;
  constexpr float ln2_lo = 1.428606765330187e-06F;
  constexpr float magic = 12582912.0F;  // 1.5 · 2^23: adding it rounds to an integer held in the low mantissa bits
  x = x < -87.0F ? -87.0F : x;
  x = x > 88.0F ? 88.0F : x;
  const float t = x * log2e + magic;
  const float n = t - magic;
  // Unsigned so that a NaN input (whose garbage n would overflow a signed product) is defined and stays NaN.
  const std::uint32_t ni = std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(magic);
  const float r = (x - n * ln2_hi) - n * ln2_lo;
  float p = 1.0F / 720.0F;
  p = p * r + 1.0F / 120.0F;
  p = p * r + 1.0F / 24.0F;
  p = p * r + 1.0F / 6.0F;
  p = p * r + 0.5F;
  p = p * r + 1.0F;
  p = p * r + 1.0F;
  const float scale = std::bit_cast<float>((ni + 127U) << 23U);
  return p * scale;
}

}  // namespace taskpipe::nn::detail
