// graph/detail/graph_node.hpp — one vertex of a taskpipe::graph: its work, its edges, and its join counter.
//
// The work is type-erased once, when the task is emplaced, into a heap object called through a function pointer
// (a move-only std::function, which C++20 lacks). Join counters are touched only for nodes with more than one
// predecessor: a node with one predecessor is ready as soon as that predecessor finishes, with no atomic at all,
// which is what makes a chain of tasks cost little more than a loop of indirect calls.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {
class graph;
}

namespace taskpipe::detail {

/// A move-only callable `void(stop_token)` built from a user's `f()` or `f(stop_token)`.
class node_work {
 public:
  node_work() noexcept = default;
  // The constraint keeps this from hiding the move constructor.
  template <class F>
  // NOLINTNEXTLINE(bugprone-forwarding-reference-overload)
  requires(!std::is_same_v<std::decay_t<F>, node_work>) explicit node_work(F&& f)
      : obj_(new std::decay_t<F>(std::forward<F>(f))),
        call_(&call<std::decay_t<F>>),
        destroy_(&destroy<std::decay_t<F>>) {}
  node_work(node_work&& o) noexcept : obj_(std::exchange(o.obj_, nullptr)), call_(o.call_), destroy_(o.destroy_) {}
  node_work& operator=(node_work&& o) noexcept {
    if (this != &o) {
      reset();
      obj_ = std::exchange(o.obj_, nullptr);
      call_ = o.call_;
      destroy_ = o.destroy_;
    }
    return *this;
  }
  node_work(const node_work&) = delete;
  node_work& operator=(const node_work&) = delete;
  ~node_work() { reset(); }

  [[nodiscard]] explicit operator bool() const noexcept { return obj_ != nullptr; }
  void operator()(const cancellation_node* stop) const { call_(obj_, stop); }

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
    delete static_cast<F*>(obj);
  }
  void reset() noexcept {
    if (obj_ != nullptr) {
      destroy_(std::exchange(obj_, nullptr));
    }
  }

  void* obj_ = nullptr;
  void (*call_)(void*, const cancellation_node*) = nullptr;
  void (*destroy_)(void*) noexcept = nullptr;
};

struct graph_node {
  graph_node(graph& owner, std::size_t idx) noexcept : owner_graph(&owner), index(idx) {}

  graph* owner_graph;
  std::size_t index;        // emplacement order, names unnamed tasks in messages
  node_work work;           // empty for a module or a placeholder
  graph* module = nullptr;  // set when this node runs a whole graph (composition)
  std::string name;
  std::vector<graph_node*> successors;  // one entry per edge (a repeated edge counts twice on both ends)
  std::uint32_t num_predecessors = 0;
  // Predecessors still to finish in the current run; reset to num_predecessors by whoever releases the node, so a
  // finished run leaves every counter ready for the next without a pass over the graph.
  std::atomic<std::uint32_t> join{0};
};

}  // namespace taskpipe::detail
