// taskpipe/graph/graph.hpp — a static task graph (DAG) that an executor can run any number of times.
//
// `emplace(f)` adds a task and returns its handle; `a.precede(b)` (or `b.succeed(a)`) adds the edge a → b: b starts
// only after a has finished. `placeholder()` adds a task whose work is set later with `task_handle::work(f)` (a
// placeholder left without work runs nothing: it is a join or fork point). `linearize({a, b, c})` chains tasks, each
// preceding the next. `composed_of(other)` adds a task that runs the whole graph `other` (composition).
// `executor::run(g)`, `run_n(g, n)` and `run_until(g, stop)` start the graph and return a future. Within a run every
// task runs exactly once, after all of its predecessors; a task that releases exactly one ready successor runs it
// directly on the same worker (no scheduling round trip), further ready successors go to the worker's own deque.
//
// Cost: building takes no heap allocation per task. Tasks live in chunks owned by the graph (N tasks take at most
// log2(N) + N/4096 + 1 chunk allocations, fewer when chunks freed by earlier graphs are reused); a callable of up to
// 32 bytes and a task's first two successors are stored inside the task, larger ones (and names) in byte chunks of
// the graph. Destroying or clearing a graph frees chunks, not tasks. A graph whose edges all go from an earlier task
// to a later one (in emplace order) is acyclic by construction and skips the cycle check before its first run.
//
// Thread safety: building (emplace, placeholder, work, precede, linearize, name, clear) is single-threaded and must
//   not overlap a run of the graph. A graph runs at most once at a time: starting a run while one is in flight throws
//   taskpipe::error, and so does, at run time, a graph that is (directly or through others) a module of itself.
//   `cancel()` is thread-safe.
// Exceptions: the first exception thrown by a task is rethrown by the run's future; it also cancels the run. A cycle
//   is reported through the future as a taskpipe::error naming the tasks on it. Linking tasks of different graphs,
//   an empty handle, or setting the work of a module task throws taskpipe::error.
// Cancellation: like task_group — after `cancel()` (or a task's exception) tasks not yet started are skipped, running
//   ones finish and may poll the `stop_token` they were given (`f(stop_token)`); `run_n` / `run_until` start no
//   further run. A cancelled run's future completes normally. The next run starts uncancelled.
// Lifetime: the graph must outlive its runs (wait for the future before destroying or changing it).
//
// Example:
//   taskpipe::graph g{"etl"};
//   auto load = g.emplace([&] { rows = read(); }).name("load");
//   auto crunch = g.placeholder().name("crunch");
//   auto store = g.emplace([&] { write(total); });
//   g.linearize({load, crunch, store});
//   crunch.work([&] { total = sum(rows); });
//   ex.run(g).get();
#pragma once

#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <ostream>
#include <span>
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

  /// Sets (or replaces) the work of this task: `f()` or `f(stop_token)`. Meant for placeholders; must not overlap a
  /// run. Throws taskpipe::error on an empty handle or a module task (composed_of), and what copying `f` throws.
  /// The old work is destroyed; a callable over 32 bytes keeps its bytes in the graph until `clear()`.
  template <class F>
  task_handle& work(F&& f) {
    using fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn&> || std::is_invocable_v<fn&, stop_token>,
                  "task_handle::work: the task must be callable as f() or f(taskpipe::stop_token)");
    check_work_target();
    node_->work.set(arena_of(node_), std::forward<F>(f));
    return *this;
  }
  /// True when the task has work to run (false for a placeholder whose work is not set, and for a module).
  [[nodiscard]] bool has_work() const noexcept { return node_ != nullptr && static_cast<bool>(node_->work); }

  /// Names the task (used by dump_dot and by error messages).
  task_handle& name(std::string n) {
    node_->set_name(std::move(n), arena_of(node_));
    return *this;
  }
  [[nodiscard]] const std::string& name() const noexcept { return node_->name(); }

  [[nodiscard]] std::size_t num_successors() const noexcept { return node_->successors.size(); }
  [[nodiscard]] std::size_t num_predecessors() const noexcept { return node_->num_predecessors; }
  [[nodiscard]] bool empty() const noexcept { return node_ == nullptr; }
  friend bool operator==(const task_handle&, const task_handle&) noexcept = default;

 private:
  friend class graph;
  explicit task_handle(detail::graph_node* n) noexcept : node_(n) {}
  static void link(detail::graph_node* from, detail::graph_node* to);
  static detail::byte_arena& arena_of(detail::graph_node* n) noexcept;
  void check_work_target() const;

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
    n->work.set(nodes_.bytes(), std::forward<F>(f));  // on failure the task stays, without work, like a placeholder
    return task_handle{n};
  }

  /// Adds a task without work: give it work later with `task_handle::work(f)`. Run without work, it runs nothing
  /// (a join or fork point) and its successors start as soon as its predecessors are done.
  task_handle placeholder() { return task_handle{add_node()}; }

  /// Adds the edges tasks[0] → tasks[1] → ... → tasks[n-1]: each task precedes the next (fewer than 2: nothing).
  /// Throws taskpipe::error on an empty handle or a task of another graph (edges added before it stay).
  void linearize(std::span<const task_handle> tasks);
  void linearize(std::initializer_list<task_handle> tasks) { linearize(std::span{tasks.begin(), tasks.size()}); }

  /// Adds a task that runs all of `other` (each time this graph runs). `other` must outlive this graph's runs and
  /// not run on its own meanwhile; a task of `other` that throws fails this graph's run too.
  task_handle composed_of(graph& other) {
    detail::graph_node* n = add_node();
    n->module = &other;
    if (!other.name_.empty()) {
      n->set_name(other.name_, nodes_.bytes());
    }
    return task_handle{n};
  }

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return nodes_.size() == 0; }
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
  detail::node_arena nodes_;
  // Filled by prepare() when dirty_: the tasks without predecessors and the number without successors.
  std::vector<detail::graph_node*> sources_;
  std::size_t num_sinks_ = 0;
  std::string cycle_;  // the cycle message of the last prepare(), "" when acyclic
  bool dirty_ = true;
  bool edges_forward_ = true;  // every edge goes from an earlier task to a later one: acyclic, no check needed

  std::atomic<bool> running_{false};
  detail::topology* topo_ = nullptr;  // the run in flight; published to tasks by the deque push that starts them
  detail::cancellation_node stop_;
};

}  // namespace taskpipe
