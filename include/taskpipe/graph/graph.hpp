// taskpipe/graph/graph.hpp — a static task graph (DAG) that an executor can run any number of times.
//
// `emplace(f)` adds a task and returns its handle; `a.precede(b)` (or `b.succeed(a)`) adds the edge a → b: b starts
// only after a has finished. `composed_of(other)` adds a task that runs the whole graph `other` (composition).
// `executor::run(g)`, `run_n(g, n)` and `run_until(g, stop)` start the graph and return a future. Within a run every
// task runs exactly once, after all of its predecessors; a task that releases exactly one ready successor runs it
// directly on the same worker (no scheduling round trip), further ready successors go to the worker's own deque.
//
// Thread safety: building (emplace, precede, name, clear) is single-threaded and must not overlap a run of the
//   graph. A graph runs at most once at a time: starting a run while one is in flight throws taskpipe::error, and so
//   does, at run time, a graph that is (directly or through others) a module of itself. `cancel()` is thread-safe.
// Exceptions: the first exception thrown by a task is rethrown by the run's future; it also cancels the run. A cycle
//   is reported through the future as a taskpipe::error naming the tasks on it.
// Cancellation: like task_group — after `cancel()` (or a task's exception) tasks not yet started are skipped, running
//   ones finish and may poll the `stop_token` they were given (`f(stop_token)`); `run_n` / `run_until` start no
//   further run. A cancelled run's future completes normally. The next run starts uncancelled.
// Lifetime: the graph must outlive its runs (wait for the future before destroying or changing it).
//
// Example:
//   taskpipe::graph g{"etl"};
//   auto load = g.emplace([&] { rows = read(); }).name("load");
//   auto crunch = g.emplace([&] { total = sum(rows); }).name("crunch");
//   load.precede(crunch);
//   ex.run(g).get();
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "taskpipe/graph/detail/graph_node.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe {

namespace detail {
struct topology;
struct graph_engine;
}  // namespace detail

/// A handle to one task of a graph. Cheap to copy; valid as long as its graph is (and until `clear()`).
class task_handle {
 public:
  task_handle() noexcept = default;

  /// Adds edges this → each of `others`: they start after this task finished. Returns *this for chaining.
  template <class... Handles>
  task_handle& precede(const Handles&... others) {
    (link(node_, others.node_), ...);
    return *this;
  }
  /// Adds edges each of `others` → this.
  template <class... Handles>
  task_handle& succeed(const Handles&... others) {
    (link(others.node_, node_), ...);
    return *this;
  }

  /// Names the task (used by dump_dot and by error messages).
  task_handle& name(std::string n) {
    node_->name = std::move(n);
    return *this;
  }
  [[nodiscard]] const std::string& name() const noexcept { return node_->name; }

  [[nodiscard]] std::size_t num_successors() const noexcept { return node_->successors.size(); }
  [[nodiscard]] std::size_t num_predecessors() const noexcept { return node_->num_predecessors; }
  [[nodiscard]] bool empty() const noexcept { return node_ == nullptr; }
  friend bool operator==(const task_handle&, const task_handle&) noexcept = default;

 private:
  friend class graph;
  explicit task_handle(detail::graph_node* n) noexcept : node_(n) {}
  static void link(detail::graph_node* from, detail::graph_node* to);

  detail::graph_node* node_ = nullptr;
};

class graph {
 public:
  explicit graph(std::string name = {}) : name_(std::move(name)) {}
  ~graph();
  graph(const graph&) = delete;
  graph& operator=(const graph&) = delete;
  graph(graph&&) = delete;  // handles and running topologies point into the graph
  graph& operator=(graph&&) = delete;

  /// Adds a task running `f()` or `f(stop_token)`. Throws what copying/moving `f` throws, or std::bad_alloc.
  template <class F>
  task_handle emplace(F&& f) {
    using fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn&> || std::is_invocable_v<fn&, stop_token>,
                  "graph::emplace: the task must be callable as f() or f(taskpipe::stop_token)");
    detail::graph_node* n = add_node();
    n->work = detail::node_work(std::forward<F>(f));
    return task_handle{n};
  }

  /// Adds a task that does nothing: a join or fork point.
  task_handle placeholder() { return task_handle{add_node()}; }

  /// Adds a task that runs all of `other` (each time this graph runs). `other` must outlive this graph's runs and
  /// not run on its own meanwhile; a task of `other` that throws fails this graph's run too.
  task_handle composed_of(graph& other) {
    detail::graph_node* n = add_node();
    n->module = &other;
    n->name = other.name_;
    return task_handle{n};
  }

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return nodes_.empty(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  void name(std::string n) { name_ = std::move(n); }

  /// Removes every task (invalidates handles). Must not overlap a run.
  void clear() noexcept;

  /// Cancels the run in flight, if any (see the header comment). Thread-safe.
  void cancel() noexcept { stop_.stopped.store(true, std::memory_order_relaxed); }

  /// Graphviz text: one node per task (modules drawn as boxes), one edge per dependency.
  void dump_dot(std::ostream& out) const;
  [[nodiscard]] std::string dump_dot() const;

 private:
  friend class task_handle;
  friend class executor;
  friend struct detail::graph_engine;
  friend struct detail::topology;

  detail::graph_node* add_node();
  /// Recomputes sources and sinks after an edit; returns an error message naming a cycle, or "" when acyclic.
  std::string prepare();
  [[nodiscard]] std::string task_label(const detail::graph_node& n) const;

  std::string name_;
  std::vector<std::unique_ptr<detail::graph_node>> nodes_;
  // Filled by prepare() when dirty_: the tasks without predecessors and the number without successors.
  std::vector<detail::graph_node*> sources_;
  std::size_t num_sinks_ = 0;
  std::string cycle_;  // the cycle message of the last prepare(), "" when acyclic
  bool dirty_ = true;

  std::atomic<bool> running_{false};
  detail::topology* topo_ = nullptr;  // the run in flight; published to tasks by the deque push that starts them
  detail::cancellation_node stop_;
};

}  // namespace taskpipe
