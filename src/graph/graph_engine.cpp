// graph_engine.cpp — running a graph: one topology per run, chains of tasks run inline, sinks counted to find the end.
//
// Hot path. A task runs, then releases its successors: a successor with one predecessor is ready at once (no atomic);
// one with several is ready when its join counter drops to zero. The first ready successor runs next on the same
// worker, in the same loop (no task block, no deque round trip), the others are pushed to the worker's own deque for
// thieves. A run is over when every sink (task without successors) has finished; each chain counts the sinks it
// finished and subtracts them in one atomic operation at its end.
#include <exception>
#include <functional>
#include <new>
#include <string>

#include "taskpipe/error.hpp"
#include "taskpipe/graph/graph.hpp"
#include "taskpipe/runtime/future.hpp"

namespace taskpipe::detail {

struct topology {
  topology(scheduler& s, graph& gr) noexcept : sched(&s), g(&gr) {}

  scheduler* sched;
  graph* g;
  topology* parent = nullptr;           // for a module's run: the run of the graph holding the module task
  graph_node* parent_node = nullptr;    // ... and that task, continued when this run is over
  future_state<void>* state = nullptr;  // for a top-level run: what the caller waits on
  std::size_t runs_left = 1;            // run_n
  std::function<bool()> stop;           // run_until
  std::atomic<std::size_t> pending{0};  // sinks not yet finished in the current run
  std::atomic<bool> has_error{false};
  std::exception_ptr error;

  void capture(std::exception_ptr e) noexcept {
    if (!has_error.exchange(true, std::memory_order_acq_rel)) {
      error = std::move(e);
    }
    g->stop_.stopped.store(true, std::memory_order_relaxed);
  }
};

struct graph_engine {
  // A slice of a graph's sources, split in halves so thieves take big pieces of a wide graph.
  struct source_range {
    topology* tp;
    std::size_t lo;
    std::size_t hi;
  };
  static constexpr std::size_t sources_per_leaf = 16;

  static void push_node(graph_node* n, worker& w) {
    task* t = w.pool.allocate();
    t->run = &run_node_task;
    t->owner = n;
    n->owner_graph->topo_->sched->push_local(w, t);
  }

  static void push_range(const source_range& r, worker* w) {
    scheduler* s = r.tp->sched;
    task* t = s->allocate_task(w);
    t->run = &run_range_task;
    t->owner = nullptr;
    ::new (static_cast<void*>(t->storage)) source_range(r);
    if (w != nullptr) {
      s->push_local(*w, t);
    } else {
      s->submit(nullptr, t);
    }
  }

  static void start_sources(topology* tp, worker* w) {
    tp->pending.store(tp->g->num_sinks_, std::memory_order_relaxed);
    push_range({tp, 0, tp->g->sources_.size()}, w);
  }

  static void run_node_task(task& t, worker& w) noexcept {
    auto* n = static_cast<graph_node*>(t.owner);
    topology* tp = n->owner_graph->topo_;
    finish_sinks(tp, chain(n, w, false), w);
  }

  static void run_range_task(task& t, worker& w) noexcept {
    source_range r = *std::launder(reinterpret_cast<source_range*>(t.storage));
    while (r.hi - r.lo > sources_per_leaf) {
      const std::size_t mid = r.lo + (r.hi - r.lo) / 2;
      try {
        push_range({r.tp, mid, r.hi}, &w);
      } catch (...) {  // no task block to be had (out of memory): this task runs the rest of the range itself
        break;
      }
      r.hi = mid;
    }
    std::size_t sinks = 0;
    const auto& sources = r.tp->g->sources_;
    for (std::size_t i = r.lo; i < r.hi; ++i) {
      sinks += chain(sources[i], w, false);
    }
    finish_sinks(r.tp, sinks, w);
  }

  // Runs `n` (unless `body_done`) and then every successor that becomes ready one at a time; returns how many sinks
  // it finished. A module task hands its continuation to the module's run and ends the chain.
  static std::size_t chain(graph_node* n, worker& w, bool body_done) noexcept {
    graph* g = n->owner_graph;
    topology* tp = g->topo_;
    std::size_t sinks = 0;
    for (;;) {
      if (!body_done && !g->stop_.stop_requested()) {
        if (n->module != nullptr) {
          if (start_module(n, tp, w)) {
            return sinks;
          }
        } else if (n->work) {
          try {
            n->work(&g->stop_);
          } catch (...) {
            tp->capture(std::current_exception());
          }
        }
      }
      body_done = false;
      graph_node* next = nullptr;
      if (n->successors.empty()) {
        ++sinks;
      }
      for (graph_node* s : n->successors) {
        if (s->num_predecessors != 1) {
          if (s->join.fetch_sub(1, std::memory_order_acq_rel) != 1) {
            continue;
          }
          s->join.store(s->num_predecessors, std::memory_order_relaxed);  // nobody else touches it this run
        }
        if (next == nullptr) {
          next = s;
        } else {
          push_or_run(s, w, sinks);
        }
      }
      if (next == nullptr) {
        return sinks;
      }
      n = next;
    }
  }

  // A push needs a task block; when none can be had (out of memory) the node runs here instead, which is slower
  // but never loses it.
  static void push_or_run(graph_node* s, worker& w, std::size_t& sinks) noexcept {
    try {
      push_node(s, w);
    } catch (...) {
      sinks += chain(s, w, false);
    }
  }

  static void finish_sinks(topology* tp, std::size_t sinks, worker& w) noexcept {
    if (sinks != 0 && tp->pending.fetch_sub(sinks, std::memory_order_acq_rel) == sinks) {
      run_over(tp, w);
    }
  }

  // Every sink of the current run finished: start the next run, or finish the topology.
  static void run_over(topology* tp, worker& w) noexcept {
    graph* g = tp->g;
    bool again = false;
    if (!g->stop_.stop_requested()) {
      if (tp->stop) {
        try {
          again = !tp->stop();
        } catch (...) {
          tp->capture(std::current_exception());
        }
      } else {
        again = --tp->runs_left > 0;
      }
    }
    if (again) {
      try {
        start_sources(tp, &w);
        return;
      } catch (...) {
        tp->capture(std::current_exception());
      }
    }
    finish(tp, w);
  }

  static void finish(topology* tp, worker& w) noexcept {
    graph* g = tp->g;
    std::exception_ptr err = tp->has_error.load(std::memory_order_acquire) ? tp->error : nullptr;
    topology* parent = tp->parent;
    graph_node* parent_node = tp->parent_node;
    future_state<void>* state = tp->state;
    scheduler* sched = tp->sched;
    g->topo_ = nullptr;
    delete tp;
    g->running_.store(false, std::memory_order_release);
    if (parent != nullptr) {
      if (err) {
        parent->capture(std::move(err));
      }
      finish_sinks(parent, chain(parent_node, w, true), w);
      return;
    }
    state->error = std::move(err);
    state->value = true;
    state->complete();
    state->release();
    sched->detached_end();
  }

  // Starts the module graph of task `n`; false when it ran nothing (empty, cyclic, busy), so `n` counts as done.
  static bool start_module(graph_node* n, topology* parent, worker& w) noexcept {
    graph* sub = n->module;
    if (sub->running_.exchange(true, std::memory_order_acq_rel)) {
      parent->capture(make_error([&] {
        return "taskpipe::graph: module '" + n->owner_graph->task_label(*n) + "' runs graph '" + sub->name_ +
               "', which is already running (a graph cannot contain itself, nor run twice at once)";
      }));
      return false;
    }
    try {
      const std::string cycle = sub->prepare();
      if (!cycle.empty()) {
        throw error(cycle);
      }
      if (sub->nodes_.size() == 0) {
        sub->running_.store(false, std::memory_order_release);
        return false;
      }
      auto* tp = new topology(*parent->sched, *sub);
      tp->parent = parent;
      tp->parent_node = n;
      sub->stop_.stopped.store(false, std::memory_order_relaxed);
      sub->stop_.parent = &n->owner_graph->stop_;
      sub->topo_ = tp;
      start_sources(tp, &w);
      return true;
    } catch (...) {
      sub->running_.store(false, std::memory_order_release);
      parent->capture(std::current_exception());
      return false;
    }
  }

  // The message is built inside the try: building it allocates, and the callers are noexcept.
  template <class Message>
  static std::exception_ptr make_error(const Message& what) noexcept {
    try {
      return std::make_exception_ptr(error(what()));
    } catch (...) {
      return std::current_exception();
    }
  }

  // A top-level run; returns the state of its future.
  static future_state<void>* start(scheduler& sched, graph& g, std::size_t runs, std::function<bool()> stop) {
    if (g.running_.exchange(true, std::memory_order_acq_rel)) {
      throw error("taskpipe::executor::run: graph '" + g.name_ + "' is already running; wait for its future first");
    }
    future_state<void>* state = nullptr;
    try {
      state = new future_state<void>(sched);
      std::exception_ptr failure;
      bool nothing_to_do = runs == 0 || g.nodes_.size() == 0;
      std::string cycle = g.prepare();
      if (!cycle.empty()) {
        failure = make_error([&] { return cycle; });
      } else if (!nothing_to_do && stop) {
        try {
          nothing_to_do = stop();
        } catch (...) {
          failure = std::current_exception();
        }
      }
      if (failure || nothing_to_do) {
        g.running_.store(false, std::memory_order_release);
        state->error = failure;
        state->value = true;
        state->refs.store(1, std::memory_order_relaxed);  // no task will hold a reference: the future is the only owner
        state->complete();
        return state;
      }
      auto* tp = new topology(sched, g);
      tp->state = state;
      tp->runs_left = runs;
      tp->stop = std::move(stop);
      g.stop_.stopped.store(false, std::memory_order_relaxed);
      g.stop_.parent = nullptr;
      g.topo_ = tp;
      sched.detached_begin();
      try {
        start_sources(tp, sched.local_worker());
      } catch (...) {
        sched.detached_end();
        g.topo_ = nullptr;
        delete tp;
        throw;
      }
      return state;
    } catch (...) {
      delete state;
      g.running_.store(false, std::memory_order_release);
      throw;
    }
  }
};

}  // namespace taskpipe::detail

namespace taskpipe {

future<void> executor::run(graph& g) { return run_n(g, 1); }

future<void> executor::run_n(graph& g, std::size_t n) {
  return future<void>(detail::graph_engine::start(*sched_, g, n, {}));
}

future<void> executor::run_until(graph& g, std::function<bool()> stop) {
  if (!stop) {
    throw invalid_argument("taskpipe::executor::run_until: the stop predicate is empty");
  }
  return future<void>(detail::graph_engine::start(*sched_, g, 1, std::move(stop)));
}

}  // namespace taskpipe
