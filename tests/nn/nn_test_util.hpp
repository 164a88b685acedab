// Helpers for the neural-net tests: random inputs, float <-> double, and tensor-by-tensor comparison.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "taskpipe/nn/rng.hpp"

namespace taskpipe::nn::test {

inline std::vector<float> random_floats(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  rng r(seed);
  std::vector<float> v(n);
  for (float& x : v) {
    x = static_cast<float>(scale * r.normal());
  }
  return v;
}

inline std::vector<std::int32_t> random_ids(std::size_t n, std::size_t vocab, std::uint64_t seed) {
  rng r(seed);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) {
    x = static_cast<std::int32_t>(r.below(vocab));
  }
  return v;
}

inline std::vector<double> to_double(std::span<const float> v) { return {v.begin(), v.end()}; }

/// The largest |fast - ref| / (atol + |ref|·rtol)-style error: passes when every element satisfies
/// |fast - ref| <= atol + rtol·|ref|. Reports the worst element.
inline ::testing::AssertionResult all_close(std::span<const float> fast, std::span<const double> ref, double atol,
                                            double rtol) {
  if (fast.size() != ref.size()) {
    return ::testing::AssertionFailure() << "sizes differ: " << fast.size() << " vs " << ref.size();
  }
  double worst = 0.0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    const double err = std::abs(static_cast<double>(fast[i]) - ref[i]) / (atol + rtol * std::abs(ref[i]));
    if (!(err <= worst)) {  // also catches NaN
      worst = std::isnan(err) ? INFINITY : err;
      at = i;
    }
  }
  if (worst <= 1.0) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "element " << at << ": fast " << fast[at] << " vs reference " << ref[at]
                                       << " (atol " << atol << ", rtol " << rtol << ")";
}

inline ::testing::AssertionResult all_close(std::span<const double> a, std::span<const double> b, double atol,
                                            double rtol) {
  std::vector<float> fa(a.begin(), a.end());
  return all_close(std::span<const float>(fa), b, atol, rtol);
}

inline ::testing::AssertionResult bit_equal(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i])) {
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace taskpipe::nn::test
