#include "taskpipe/nn/tensor.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/nn/storage_cache.hpp"

#include <cstring>
#include <limits>
#include <new>
#include <utility>

namespace taskpipe::nn {
namespace {

std::size_t element_count(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (const std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / sizeof(float) / d) {
      throw invalid_argument("tensor shape overflows the address space");
    }
    n *= d;
  }
  return n;
}

}  // namespace

tensor::tensor(std::vector<std::size_t> shape, memory_category category, memory_ledger* ledger, uninitialized_t)
    : m_shape(std::move(shape)), m_size(element_count(m_shape)), m_category(category), m_ledger(ledger) {
  if (m_size == 0) {
    return;
  }
  m_data = static_cast<float*>(allocate_storage(bytes()));
  if (m_ledger != nullptr) {
    m_ledger->allocate(m_category, bytes());
  }
}

tensor::tensor(std::vector<std::size_t> shape, memory_category category, memory_ledger* ledger)
    : tensor(std::move(shape), category, ledger, uninitialized) {
  zero();
}

tensor::~tensor() { free_storage(); }

tensor::tensor(tensor&& other) noexcept
    : m_shape(std::move(other.m_shape)),
      m_data(std::exchange(other.m_data, nullptr)),
      m_size(std::exchange(other.m_size, 0)),
      m_category(other.m_category),
      m_ledger(std::exchange(other.m_ledger, nullptr)) {
  other.m_shape.clear();
}

tensor& tensor::operator=(tensor&& other) noexcept {
  if (this != &other) {
    free_storage();
    m_shape = std::move(other.m_shape);
    other.m_shape.clear();
    m_data = std::exchange(other.m_data, nullptr);
    m_size = std::exchange(other.m_size, 0);
    m_category = other.m_category;
    m_ledger = std::exchange(other.m_ledger, nullptr);
  }
  return *this;
}

void tensor::zero() noexcept {
  if (m_size != 0) {
    std::memset(m_data, 0, bytes());
  }
}

std::string tensor::shape_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < m_shape.size(); ++i) {
    s += (i == 0 ? "" : ", ") + std::to_string(m_shape[i]);
  }
  return s + "]";
}

void tensor::free_storage() noexcept {
  if (m_data != nullptr) {
    if (m_ledger != nullptr) {
      m_ledger->release(m_category, bytes());
    }
    release_storage(m_data, bytes());
    m_data = nullptr;
  }
}

}  // namespace taskpipe::nn
