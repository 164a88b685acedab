#include "taskpipe/nn/memory.hpp"

namespace taskpipe::nn {
namespace {

void raise_peak(std::atomic<std::size_t>& peak, std::size_t now) noexcept {
  std::size_t seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}

}  // namespace

std::string_view to_string(memory_category c) noexcept {
  switch (c) {
    case memory_category::parameters:
      return "parameters";
    case memory_category::gradients:
      return "gradients";
    case memory_category::optimizer:
      return "optimizer";
    case memory_category::activations:
      return "activations";
    case memory_category::workspace:
      return "workspace";
  }
  return "unknown";
}

void memory_ledger::allocate(memory_category c, std::size_t bytes) noexcept {
  auto& k = m_counters[static_cast<std::size_t>(c)];
  const std::size_t now = k.current.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  raise_peak(k.peak, now);
  raise_peak(k.window, now);
  raise_peak(m_total.peak, m_total.current.fetch_add(bytes, std::memory_order_relaxed) + bytes);
}

void memory_ledger::release(memory_category c, std::size_t bytes) noexcept {
  m_counters[static_cast<std::size_t>(c)].current.fetch_sub(bytes, std::memory_order_relaxed);
  m_total.current.fetch_sub(bytes, std::memory_order_relaxed);
}

std::size_t memory_ledger::current(memory_category c) const noexcept {
  return m_counters[static_cast<std::size_t>(c)].current.load(std::memory_order_relaxed);
}

std::size_t memory_ledger::peak(memory_category c) const noexcept {
  return m_counters[static_cast<std::size_t>(c)].peak.load(std::memory_order_relaxed);
}

std::size_t memory_ledger::peak_total() const noexcept { return m_total.peak.load(std::memory_order_relaxed); }

std::size_t memory_ledger::current_total() const noexcept { return m_total.current.load(std::memory_order_relaxed); }

void memory_ledger::reset_peaks() noexcept {
  for (auto& k : m_counters) {
    k.peak.store(k.current.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  m_total.peak.store(m_total.current.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void memory_ledger::start_window() noexcept {
  for (auto& k : m_counters) {
    k.window.store(k.current.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
}

std::size_t memory_ledger::window_peak(memory_category c) const noexcept {
  return m_counters[static_cast<std::size_t>(c)].window.load(std::memory_order_relaxed);
}

std::size_t memory_ledger::window_rise(memory_category c, std::size_t level) const noexcept {
  const std::size_t peak = window_peak(c);
  return peak > level ? peak - level : 0;
}

}  // namespace taskpipe::nn
