// taskpipe/nn/tensor.hpp — an owning, contiguous float32 buffer with a shape and a memory category.
//
// Contract: a tensor owns `size()` floats, zero-initialised, 64-byte aligned, row-major in `shape()`. It is
// move-only; a moved-from tensor is empty. When constructed with a ledger it reports its bytes to it under its
// category for as long as it holds them (the ledger must outlive the tensor). Shapes with a zero extent are allowed
// and hold no bytes. Construction throws `std::bad_alloc` when memory runs out and `taskpipe::invalid_argument`
// when the element count overflows. Thread safety: as a value type; concurrent writes to disjoint elements are fine.
#pragma once

#include "taskpipe/nn/memory.hpp"

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace taskpipe::nn {

/// Tag for a tensor whose elements start undefined: for outputs an op overwrites in full, so that the hot path does
/// not pay to zero them first.
struct uninitialized_t {
  explicit uninitialized_t() = default;
};
inline constexpr uninitialized_t uninitialized{};

class tensor {
 public:
  tensor() = default;
  /// As below but the elements are not zeroed (see `uninitialized_t`).
  tensor(std::vector<std::size_t> shape, memory_category category, memory_ledger* ledger, uninitialized_t);
  tensor(std::vector<std::size_t> shape, memory_category category, memory_ledger* ledger = nullptr);
  tensor(std::initializer_list<std::size_t> shape, memory_category category, memory_ledger* ledger = nullptr)
      : tensor(std::vector<std::size_t>(shape), category, ledger) {}
  ~tensor();
  tensor(tensor&& other) noexcept;
  tensor& operator=(tensor&& other) noexcept;
  tensor(const tensor&) = delete;
  tensor& operator=(const tensor&) = delete;

  float* data() noexcept { return m_data; }
  const float* data() const noexcept { return m_data; }
  std::size_t size() const noexcept { return m_size; }
  std::size_t bytes() const noexcept { return m_size * sizeof(float); }
  bool empty() const noexcept { return m_size == 0; }
  const std::vector<std::size_t>& shape() const noexcept { return m_shape; }
  std::size_t dim(std::size_t i) const { return m_shape.at(i); }
  memory_category category() const noexcept { return m_category; }

  std::span<float> span() noexcept { return {m_data, m_size}; }
  std::span<const float> span() const noexcept { return {m_data, m_size}; }
  float& operator[](std::size_t i) noexcept { return m_data[i]; }
  float operator[](std::size_t i) const noexcept { return m_data[i]; }

  /// Sets every element to zero.
  void zero() noexcept;
  /// "[8, 128, 256]".
  std::string shape_string() const;

 private:
  void free_storage() noexcept;

  std::vector<std::size_t> m_shape;
  float* m_data = nullptr;
  std::size_t m_size = 0;
  memory_category m_category = memory_category::workspace;
  memory_ledger* m_ledger = nullptr;
};

}  // namespace taskpipe::nn
