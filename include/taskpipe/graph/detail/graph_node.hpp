// graph/detail/graph_node.hpp — one vertex of a taskpipe::graph (its work, its edges, its join counter) and the arena
// that holds every vertex of a graph.
//
// Building a graph must cost little more than writing its nodes down, so a node takes no heap allocation of its own:
// nodes live in chunks of a per-graph arena (chunk sizes double, so N nodes take O(log N) chunk allocations, then one
// per node_chunk_cap nodes), a callable of up to node_work::inline_size (32) bytes is stored inside its node, a larger
// one in the arena's byte chunks, and the first two successors of a node sit inside it (a longer list moves to the byte
// chunks, doubling). Destroying a graph runs each callable's destructor and frees the chunks; nothing is freed per
// node. The arena is single-threaded: building a graph is.
//
// Join counters are touched only for nodes with more than one predecessor: a node with one predecessor is ready as
// soon as that predecessor finishes, with no atomic at all, which is what makes a chain of tasks cost little more than
// a loop of indirect calls.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {
class graph;
}

namespace taskpipe::detail {

/// Bump allocation of raw bytes in chunks owned by one graph; freed all at once.
class byte_arena {
 public:
  byte_arena() noexcept = default;
  byte_arena(const byte_arena&) = delete;
  byte_arena& operator=(const byte_arena&) = delete;
  ~byte_arena() { release(); }

  /// `size` bytes aligned to `align` (at most alignof(std::max_align_t)). Throws std::bad_alloc.
  void* allocate(std::size_t size, std::size_t align);
  void release() noexcept;

  /// Set once a node of the graph holds something with a destructor (a name, a callable that is not trivially
  /// destructible); until then destroying the graph skips the pass over its nodes.
  bool objects_to_destroy = false;

 private:
  struct chunk;
  chunk* head_ = nullptr;
  std::byte* cur_ = nullptr;
  std::byte* end_ = nullptr;
  std::size_t next_size_ = 4096;
};

/// A callable `void(stop_token)` built in place from a user's `f()` or `f(stop_token)`; never moves.
class node_work {
 public:
  static constexpr std::size_t inline_size = 32;

  node_work() noexcept = default;
  node_work(const node_work&) = delete;
  node_work& operator=(const node_work&) = delete;
  ~node_work() { reset(); }

  /// Replaces the callable with `f`; stored inline when it fits, else in `arena`. Throws what constructing F throws
  /// (the node is left without work) or std::bad_alloc.
  template <class F>
  void set(byte_arena& arena, F&& f) {
    using fn = std::decay_t<F>;
    static_assert(alignof(fn) <= alignof(std::max_align_t), "taskpipe::graph: over-aligned task callables");
    reset();
    void* where = nullptr;
    if constexpr (sizeof(fn) <= inline_size) {
      where = buf_;
    } else {
      where = arena.allocate(sizeof(fn), alignof(fn));
    }
    obj_ = ::new (where) fn(std::forward<F>(f));
    ops_ = &ops_for<fn>;
    if constexpr (!std::is_trivially_destructible_v<fn>) {
      arena.objects_to_destroy = true;
    }
  }

  [[nodiscard]] explicit operator bool() const noexcept { return obj_ != nullptr; }
  void operator()(const cancellation_node* stop) const { ops_->call(obj_, stop); }

  void reset() noexcept {
    if (obj_ != nullptr && ops_->destroy != nullptr) {
      ops_->destroy(obj_);
    }
    obj_ = nullptr;
  }

 private:
  template <class F>
  static void call(void* obj, const cancellation_node* stop) {
    F& f = *static_cast<F*>(obj);
    if constexpr (std::is_invocable_v<F&, stop_token>) {
      f(stop_token_access::make(stop));
    } else {
      f();
    }
  }
  template <class F>
  static void destroy(void* obj) noexcept {
    static_cast<F*>(obj)->~F();  // the memory belongs to the node or the arena
  }

  // One pointer to a table per callable type rather than two function pointers: the node stays smaller.
  struct ops {
    void (*call)(void*, const cancellation_node*);
    void (*destroy)(void*) noexcept;  // null for a trivially destructible callable
  };
  template <class F>
  static constexpr ops ops_for{&call<F>, std::is_trivially_destructible_v<F> ? nullptr : &destroy<F>};

  alignas(std::max_align_t) std::byte buf_[inline_size];
  void* obj_ = nullptr;
  const ops* ops_ = nullptr;
};

struct graph_node;

/// A node's successors: two inline, more in the arena (the array doubles; the old one stays in the arena).
class successor_list {
 public:
  [[nodiscard]] graph_node* const* begin() const noexcept { return heap_ != nullptr ? heap_ : inline_; }
  [[nodiscard]] graph_node* const* end() const noexcept { return begin() + size_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  void push_back(graph_node* s, byte_arena& arena) {
    if (size_ == cap_) {
      const std::uint32_t cap = cap_ * 2;
      using slot = graph_node*;
      // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers is what is wanted
      auto* grown = static_cast<slot*>(arena.allocate(cap * sizeof(slot), alignof(slot)));
      graph_node* const* old = begin();
      for (std::uint32_t i = 0; i < size_; ++i) {
        grown[i] = old[i];
      }
      heap_ = grown;
      cap_ = cap;
    }
    (heap_ != nullptr ? heap_ : inline_)[size_++] = s;
  }

 private:
  graph_node* inline_[2] = {nullptr, nullptr};
  graph_node** heap_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t cap_ = 2;
};

struct graph_node {
  graph_node(graph& owner, std::size_t idx) noexcept : owner_graph(&owner), index(idx) {}
  graph_node(const graph_node&) = delete;
  graph_node& operator=(const graph_node&) = delete;
  ~graph_node() {
    if (name_ != nullptr) {
      name_->~basic_string();
    }
  }

  [[nodiscard]] const std::string& name() const noexcept {
    static const std::string unnamed;
    return name_ != nullptr ? *name_ : unnamed;
  }
  /// Most tasks have no name: a name lives in the arena, so an unnamed task does not carry a string.
  void set_name(std::string n, byte_arena& arena) {
    if (name_ != nullptr) {
      *name_ = std::move(n);
    } else {
      name_ = ::new (arena.allocate(sizeof(std::string), alignof(std::string))) std::string(std::move(n));
      arena.objects_to_destroy = true;
    }
  }

  graph* owner_graph;
  std::size_t index;        // emplacement order, names unnamed tasks in messages
  node_work work;           // empty for a module or a placeholder whose work was never set
  graph* module = nullptr;  // set when this node runs a whole graph (composition)
  std::string* name_ = nullptr;
  successor_list successors;  // one entry per edge (a repeated edge counts twice on both ends)
  std::uint32_t num_predecessors = 0;
  // Predecessors still to finish in the current run; reset to num_predecessors by whoever releases the node, so a
  // finished run leaves every counter ready for the next without a pass over the graph.
  std::atomic<std::uint32_t> join{0};
};

/// The nodes of one graph, in emplacement order, in chunks; plus the byte arena for what does not fit in a node.
class node_arena {
 public:
  static constexpr std::size_t first_chunk_cap = 64;
  static constexpr std::size_t node_chunk_cap = 4096;
  static constexpr std::size_t cached_chunks_limit = 24;  // about 12 MB of 128-byte nodes

  node_arena() noexcept = default;
  node_arena(const node_arena&) = delete;
  node_arena& operator=(const node_arena&) = delete;
  ~node_arena() { release(); }

  /// A new node with index size(). Throws std::bad_alloc. Chunks of node_chunk_cap nodes freed by any graph are
  /// kept for the next (up to cached_chunks_limit of them, process-wide), so a graph built and destroyed over and
  /// over does not fault fresh pages in every time.
  graph_node* emplace(graph& owner);
  /// Destroys every node and frees all memory.
  void release() noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  byte_arena& bytes() noexcept { return bytes_; }

  /// Calls f(graph_node&) for every node in emplacement order.
  template <class Fn>
  void for_each(Fn&& f) const {
    for (chunk* c = head_; c != nullptr; c = c->next) {
      for (std::size_t i = 0; i < c->used; ++i) {
        f(c->nodes()[i]);
      }
    }
  }

 private:
  struct alignas(std::max_align_t) chunk {
    chunk* next = nullptr;
    std::size_t used = 0;
    std::size_t cap = 0;
    graph_node* nodes() noexcept { return std::launder(reinterpret_cast<graph_node*>(this + 1)); }
  };
  static_assert(alignof(graph_node) <= alignof(chunk));

  chunk* head_ = nullptr;
  chunk* tail_ = nullptr;
  std::size_t size_ = 0;
  byte_arena bytes_;
};

}  // namespace taskpipe::detail
