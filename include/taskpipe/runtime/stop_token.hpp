// taskpipe/runtime/stop_token.hpp — a cheap, copyable view of a cancellation flag that running tasks poll.
//
// A `stop_token` is obtained from a `task_group` (`get_stop_token()`). It reports a stop once the group is cancelled
// — explicitly, or because a child threw — or once any group it was chained to is. Chaining is explicit: a group
// constructed with a parent token stops when the parent does, so a whole tree of nested groups can be cancelled from
// the top.
//
// A `stop_source` is a standalone flag for code outside the executor (a UI thread, a signal handler's helper) to stop
// work that polls its token, e.g. a pipeline run.
//
// Thread safety: any thread may poll; `request_stop()` from any thread. Lifetime: a token must not outlive the group
// or stop_source it came from.
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
  friend class stop_source;
  friend struct detail::stop_token_access;
  explicit stop_token(const detail::cancellation_node* node) noexcept : node_(node) {}
  const detail::cancellation_node* node_ = nullptr;
};

/// An owner of a stop flag that is not tied to a task group. Not copyable or movable: tokens point into it.
class stop_source {
 public:
  stop_source() noexcept = default;
  stop_source(const stop_source&) = delete;
  stop_source& operator=(const stop_source&) = delete;

  /// Makes every token from this source report a stop. Idempotent.
  void request_stop() noexcept { node_.stopped.store(true, std::memory_order_relaxed); }
  [[nodiscard]] bool stop_requested() const noexcept { return node_.stop_requested(); }
  [[nodiscard]] stop_token get_token() const noexcept { return stop_token{&node_}; }

 private:
  detail::cancellation_node node_;
};
namespace detail {
/// Lets other parts of the library (graphs, algorithms) hand their own cancellation flag to user tasks as a token.
struct stop_token_access {
  static stop_token make(const cancellation_node* node) noexcept { return stop_token{node}; }
};
}  // namespace detail

}  // namespace taskpipe
