// graph_arena.cpp — the chunked storage of a graph's nodes and of what does not fit inside a node.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <new>

#include "taskpipe/graph/detail/graph_node.hpp"

namespace taskpipe::detail {
namespace {

// Freed chunks of node_arena::node_chunk_cap nodes, shared by every graph of the process. Never destroyed: graphs
// that are themselves static may be destroyed after it would be.
struct chunk_cache {
  std::mutex m;
  void* head = nullptr;  // each cached chunk's first word links to the next
  std::size_t count = 0;

  void* take() noexcept {
    const std::lock_guard lock{m};
    void* c = head;
    if (c != nullptr) {
      head = *static_cast<void**>(c);
      --count;
    }
    return c;
  }
  bool give(void* c) noexcept {
    const std::lock_guard lock{m};
    if (count == node_arena::cached_chunks_limit) {
      return false;
    }
    *static_cast<void**>(c) = head;
    head = c;
    ++count;
    return true;
  }
};

// Built in static storage, not on the heap: a graph being destroyed (noexcept) must never fail to reach it.
chunk_cache& cache() noexcept {
  alignas(chunk_cache) static std::byte storage[sizeof(chunk_cache)];
  static chunk_cache* c = ::new (static_cast<void*>(storage)) chunk_cache;
  return *c;
}

}  // namespace

struct byte_arena::chunk {
  chunk* next;
};

void* byte_arena::allocate(std::size_t size, std::size_t align) {
  auto aligned = [align](std::byte* p) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    return p + ((align - a % align) % align);
  };
  std::byte* p = cur_ == nullptr ? nullptr : aligned(cur_);
  if (p == nullptr || p + size > end_) {
    // A new chunk, at least twice the last (up to 1 MiB) and big enough for this request.
    const std::size_t header =
        (sizeof(chunk) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) * alignof(std::max_align_t);
    const std::size_t bytes = std::max(next_size_, header + size + align);
    auto* c = static_cast<chunk*>(::operator new(bytes));
    c->next = head_;
    head_ = c;
    cur_ = reinterpret_cast<std::byte*>(c) + header;
    end_ = reinterpret_cast<std::byte*>(c) + bytes;
    next_size_ = std::min<std::size_t>(next_size_ * 2, std::size_t{1} << 20);
    p = aligned(cur_);
  }
  cur_ = p + size;
  return p;
}

void byte_arena::release() noexcept {
  while (head_ != nullptr) {
    chunk* next = head_->next;
    ::operator delete(static_cast<void*>(head_));
    head_ = next;
  }
  cur_ = end_ = nullptr;
  next_size_ = 4096;
  objects_to_destroy = false;
}

graph_node* node_arena::emplace(graph& owner) {
  if (tail_ == nullptr || tail_->used == tail_->cap) {
    std::size_t cap = tail_ == nullptr ? first_chunk_cap : std::min(tail_->cap * 2, node_chunk_cap);
    void* mem = cache().take();
    if (mem != nullptr) {
      cap = node_chunk_cap;
    } else {
      mem = ::operator new(sizeof(chunk) + cap * sizeof(graph_node));
    }
    auto* c = ::new (mem) chunk{};
    c->cap = cap;
    (tail_ == nullptr ? head_ : tail_->next) = c;
    tail_ = c;
  }
  void* slot = reinterpret_cast<std::byte*>(tail_ + 1) + tail_->used * sizeof(graph_node);
  graph_node* n = ::new (slot) graph_node(owner, size_);
  ++tail_->used;
  ++size_;
  return n;
}

void node_arena::release() noexcept {
  while (head_ != nullptr) {
    chunk* next = head_->next;
    if (bytes_.objects_to_destroy) {
      for (std::size_t i = 0; i < head_->used; ++i) {
        head_->nodes()[i].~graph_node();
      }
    }
    const bool full_size = head_->cap == node_chunk_cap;
    head_->~chunk();
    if (!full_size || !cache().give(head_)) {
      ::operator delete(static_cast<void*>(head_));
    }
    head_ = next;
  }
  tail_ = nullptr;
  size_ = 0;
  bytes_.release();
}

}  // namespace taskpipe::detail
