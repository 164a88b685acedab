// taskpipe/runtime/stop_token.hpp — a cheap, copyable view of a cancellation flag that running tasks poll.
//
// A `stop_token` is obtained from a `task_group` (`get_stop_token()`). It reports a stop once the group is cancelled
// — explicitly, or because a child threw — or once any group it was chained to is. Chaining is explicit: a group
// constructed with a parent token stops when the parent does, so a whole tree of nested groups can be cancelled from
// the top.
//
// Thread safety: any thread may poll. Lifetime: a token must not outlive the group it came from.
#pragma once

#include <atomic>

namespace taskpipe {

namespace detail {
/// One link of a cancellation chain: a flag and the flag of the enclosing group, if any.
struct cancellation_node {
  std::atomic<bool> stopped{false};
  const cancellation_node* parent = nullptr;

  [[nodiscard]] bool stop_requested() const noexcept {
    for (const cancellation_node* n = this; n != nullptr; n = n->parent) {
      if (n->stopped.load(std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
};
struct stop_token_access;
}  // namespace detail

class stop_token {
 public:
  /// A token that never stops.
  stop_token() noexcept = default;

  /// True once the group this token came from, or one of its ancestors, has been cancelled.
  [[nodiscard]] bool stop_requested() const noexcept { return node_ != nullptr && node_->stop_requested(); }

 private:
  friend class task_group;
  friend struct detail::stop_token_access;
  explicit stop_token(const detail::cancellation_node* node) noexcept : node_(node) {}
  const detail::cancellation_node* node_ = nullptr;
};

namespace detail {
/// Lets other parts of the library (graphs, algorithms) hand their own cancellation flag to user tasks as a token.
struct stop_token_access {
  static stop_token make(const cancellation_node* node) noexcept { return stop_token{node}; }
};
}  // namespace detail

}  // namespace taskpipe
