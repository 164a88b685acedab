// src/nn/check.hpp — the ops' argument checks (private to the library).
#pragma once

#include <cstddef>
#include <string>

#include "taskpipe/error.hpp"

namespace taskpipe::nn::detail {

inline void expect_size(std::size_t got, std::size_t want, const char* op, const char* what) {
  if (got != want) {
    throw invalid_argument(std::string(op) + ": " + what + " has " + std::to_string(got) + " elements, expected " +
                           std::to_string(want));
  }
}

/// For optional spans (a bias): empty is accepted.
inline void expect_size_or_empty(std::size_t got, std::size_t want, const char* op, const char* what) {
  if (got != 0) {
    expect_size(got, want, op, what);
  }
}

}  // namespace taskpipe::nn::detail
