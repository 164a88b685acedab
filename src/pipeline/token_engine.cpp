// The `token` and `farm` strategies: a pipeline run as tasks on the work-stealing executor.
//
// A token is the right to keep one item alive. The source holds a "baton" (only the holder calls it): it takes a
// free token, produces an item, and then
// - token: hands the baton to a new task (which another worker steals) and carries its item on through the stages
//   itself, as long as each next stage admits it — parallel stages always do; a serial stage does when it is idle and,
//   for serial_in_order, when the item is the next in source order. Otherwise the item parks in the stage's buffer and
//   whoever leaves that stage spawns a task that carries the parked item on.
// - farm: keeps the baton and loops, spawning each item as one task that runs every stage; serial stages, middle or
//   sink, admit items through the same gates as under token (a lock per stage, a ticket for in-order ones).
// With no free token the source gives the baton up, and the task that frees the next token restarts it.
#include <bit>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "taskpipe/error.hpp"
#include "taskpipe/pipeline/detail/engines.hpp"
#include "taskpipe/pipeline/detail/recorder.hpp"
#include "taskpipe/pipeline/detail/token.hpp"
#include "taskpipe/runtime/detail/cpu_relax.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::detail {
namespace {

// Critical sections here are a few instructions; a spin lock (yielding when the holder seems preempted) is cheaper
// than std::mutex on the per-item path.
class spin_lock {
 public:
  void lock() noexcept {
    for (int spins = 0; flag_.exchange(true, std::memory_order_acquire);) {
      while (flag_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          cpu_relax();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

// A serial stage's admission: who holds it, and the items waiting for it.
struct alignas(64) serial_gate {
  spin_lock m;
  bool busy = false;
  bool in_order = true;
  std::uint64_t next_seq = 0;
  // In order: the parked item with sequence number s at s & mask (live seqs span < max_in_flight <= ring size). A power
  // of two, so the slot is a mask rather than a division on every entry and exit (8 % of carry() in empty_tokens).
  std::vector<token*> ring;
  std::uint64_t mask = 0;
  token* head = nullptr;  // out of order: FIFO of parked items
  token* tail = nullptr;
};

class executor_run {
 public:
  executor_run(executor& ex, chain& c, const pipeline_options& o, bool farm)
      : ex_(ex),
        c_(c),
        o_(o),
        farm_(farm),
        pool_(c, o.max_in_flight),
        rec_(ex.num_workers(), c.stages.size(), !o.trace_path.empty(), o.time_one_in) {
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      pool_[i].next = free_;
      free_ = &pool_[i];
    }
    gates_.resize(c.stages.size());
    for (std::size_t i = 1; i < c.stages.size(); ++i) {
      if (is_serial(c.stages[i]->mode())) {
        gates_[i] = std::make_unique<serial_gate>();
        gates_[i]->in_order = c.stages[i]->mode() == stage_mode::serial_in_order;
        if (gates_[i]->in_order) {
          const std::size_t size = std::bit_ceil(o.max_in_flight);
          gates_[i]->ring.assign(size, nullptr);
          gates_[i]->mask = size - 1;
        }
      }
    }
    for (std::size_t w = 0; w < rec_.thread_count(); ++w) {
      rec_.thread(w).track_name = "worker " + std::to_string(w);
    }
  }

  pipeline_stats run() {
    try {
      if (ex_.this_worker_index()) {
        drive();
      } else {
        ex_.async([this] { drive(); }).get();  // run the tasks from a worker, so that spawning stays on the fast path
      }
    } catch (...) {
      pool_.destroy_leftovers(c_);  // every task has finished: what is still in a slot belongs to nobody
      throw;
    }
    pool_.destroy_leftovers(c_);
    if (error_) {
      std::rethrow_exception(error_);
    }
    pipeline_stats s = rec_.finish(c_, farm_ ? execution_strategy::farm : execution_strategy::token, o_.trace_path);
    s.stopped = stopped_;
    return s;
  }

 private:
  void drive() {
    task_group g{ex_};
    group_ = &g;
    token* first = free_;
    free_ = first->next;
    g.spawn([this, first] { source_step(first); });
    g.wait();
  }

  // Spawns a step of the run. A step that throws anyway (a spawn inside it without memory for the task) fails the
  // run like a stage would, so the others stop and every item left in a slot is destroyed when the run ends.
  template <class F>
  void spawn(F f) {
    group_->spawn([this, f] {
      try {
        f();
      } catch (...) {
        fail();
      }
    });
  }

  // The calling worker's index, cached per thread: asking the executor reads the worker's deque cache line, which
  // thieves keep writing (13% of empty_tokens/token in a profile).
  std::size_t me() const noexcept {
    thread_local const executor* cached_for = nullptr;
    thread_local std::size_t cached = 0;
    if (cached_for != &ex_) {
      cached = *ex_.this_worker_index();
      cached_for = &ex_;
    }
    return cached;
  }

  void give_back(token* t) {
    const std::lock_guard lock{src_m_};
    t->next = free_;
    free_ = t;
  }

  // Runs the source with the baton and `t`, a free token reserved for it. Taking the next token in the same critical
  // section that decides whether the baton is kept costs one lock per item instead of two.
  void source_step(token* t) {
    const std::size_t th = me();
    for (;;) {
      if (failed_.load(std::memory_order_relaxed) || o_.stop.stop_requested()) {
        stopped_ = !failed_.load(std::memory_order_relaxed);
        give_back(t);
        return;
      }
      const bool timed = rec_.timed(next_seq_);
      const auto b = timed ? pipeline_clock::now() : 0;
      bool got = false;
      try {
        got = c_.stages[0]->invoke(t->slot);
      } catch (...) {
        give_back(t);
        fail();
        return;
      }
      if (!got) {
        give_back(t);
        return;
      }
      t->live = 0;
      t->seq = next_seq_++;
      t->timed = timed;
      t->born = b;
      if (timed) {
        rec_.executed(th, 0, t->seq, b, pipeline_clock::now());
      } else {
        rec_.counted(th, 0);
      }
      token* next = nullptr;
      {
        const std::lock_guard lock{src_m_};
        next = free_;
        if (next != nullptr) {
          free_ = next->next;
        } else {
          src_waiting_ = true;                                   // the baton goes to whoever frees the next token
          src_released_ = t->timed ? pipeline_clock::now() : 0;  // waits are sampled like busy time
        }
      }
      if (farm_) {
        spawn([this, t] { enter_and_carry(t, 1); });
        if (next == nullptr) {
          return;
        }
        t = next;
        continue;
      }
      if (next != nullptr) {
        spawn([this, next] { source_step(next); });
      }
      enter_and_carry(t, 1);
      return;
    }
  }

  void enter_and_carry(token* t, std::size_t i) {
    if (!gates_[i] || try_enter(i, t)) {
      carry(t, i);
    }
  }

  // Runs stages i, i+1, ... on t; the caller holds stage i's gate when it is serial.

  void carry(token* t, std::size_t i) {
    const std::size_t th = me();
    const std::size_t last = c_.stages.size() - 1;
    // One clock read per stage: a stage's end doubles as the next stage's start (the gate entry in between is
    // charged to the next stage's busy time).
    auto b = t->timed ? pipeline_clock::now() : 0;
    for (;;) {
      bool ok = false;
      if (!failed_.load(std::memory_order_relaxed)) {
        try {
          c_.stages[i]->invoke(t->slot);
          ok = true;
        } catch (...) {
          fail();
        }
        t->live = ok && i != last ? static_cast<std::int32_t>(i) : -1;
        if (ok && t->timed) {
          const auto e = pipeline_clock::now();
          rec_.executed(th, i, t->seq, b, e);
          if (i == last) {
            rec_.latency(th, elapsed_ticks(e - t->born));
          }
          b = e;
        } else if (ok) {
          rec_.counted(th, i);
        }
      } else if (t->live >= 0) {  // after a failure, items in flight are dropped at their next stage
        c_.stages[static_cast<std::size_t>(t->live)]->destroy_output(t->slot);
        t->live = -1;
      }
      if (gates_[i]) {
        if (token* nx = leave(i, th)) {
          spawn([this, nx, i] { carry(nx, i); });
        }
      }
      if (!ok || i == last) {
        finish(t);
        return;
      }
      ++i;
      if (gates_[i] && !try_enter(i, t)) {
        return;
      }
    }
  }

  bool try_enter(std::size_t i, token* t) {
    serial_gate& g = *gates_[i];
    std::unique_lock lock{g.m};
    if (!g.busy && (!g.in_order || t->seq == g.next_seq)) {
      g.busy = true;
      return true;
    }
    t->parked = t->timed ? pipeline_clock::now() : 0;  // waits are sampled like busy time
    if (g.in_order) {
      token*& slot = g.ring[t->seq & g.mask];
      if (slot != nullptr) {  // only after a failure: sequence numbers skipped by dropped items may wrap around
        lock.unlock();
        c_.stages[static_cast<std::size_t>(t->live)]->destroy_output(t->slot);
        t->live = -1;
        finish(t);
        return false;
      }
      slot = t;
    } else {
      t->next = nullptr;
      (g.tail != nullptr ? g.tail->next : g.head) = t;
      g.tail = t;
    }
    return false;
  }

  // Releases stage i; returns the parked item that takes the stage over, if any (the stage then stays busy).
  token* leave(std::size_t i, std::size_t th) {
    serial_gate& g = *gates_[i];
    token* nx = nullptr;
    {
      const std::lock_guard lock{g.m};
      if (g.in_order) {
        ++g.next_seq;
        token*& r = g.ring[g.next_seq & g.mask];
        if (r != nullptr && r->seq == g.next_seq) {
          nx = std::exchange(r, nullptr);
        }
      } else if (g.head != nullptr) {
        nx = g.head;
        g.head = nx->next;
        if (g.head == nullptr) {
          g.tail = nullptr;
        }
      }
      if (nx == nullptr) {
        g.busy = false;
      }
    }
    if (nx != nullptr && nx->timed) {  // a sampled wait stands for time_one_in of them
      rec_.thread(th).stages[i].wait_input_ticks +=
          elapsed_ticks(pipeline_clock::now() - nx->parked) * static_cast<std::int64_t>(o_.time_one_in);
    }
    return nx;
  }

  void finish(token* t) {
    bool restart = false;
    pipeline_clock::time_point released{};
    {
      const std::lock_guard lock{src_m_};
      restart = src_waiting_ && !failed_.load(std::memory_order_relaxed);
      if (restart) {
        src_waiting_ = false;
        released = src_released_;
      } else {
        t->next = free_;
        free_ = t;
      }
    }
    if (restart) {          // hand the baton and this token straight to a new source task
      if (released != 0) {  // a sampled wait stands for time_one_in of them
        rec_.thread(me()).stages[0].wait_output_ticks +=
            elapsed_ticks(pipeline_clock::now() - released) * static_cast<std::int64_t>(o_.time_one_in);
      }
      spawn([this, t] { source_step(t); });
    }
  }

  void fail() noexcept {
    const std::lock_guard lock{src_m_};
    if (!error_) {
      error_ = std::current_exception();
    }
    failed_.store(true, std::memory_order_relaxed);
  }

  executor& ex_;
  chain& c_;
  const pipeline_options& o_;
  bool farm_;
  token_pool pool_;
  recorder rec_;
  std::vector<std::unique_ptr<serial_gate>> gates_;
  task_group* group_ = nullptr;

  spin_lock src_m_;  // guards free_, src_waiting_, src_released_, error_
  token* free_ = nullptr;
  bool src_waiting_ = false;
  pipeline_clock::time_point src_released_{};
  std::exception_ptr error_;
  std::uint64_t next_seq_ = 0;  // touched by the baton holder only
  bool stopped_ = false;        // written by the baton holder, read after the run
  std::atomic<bool> failed_{false};
};

}  // namespace

pipeline_stats run_on_executor(executor& ex, chain& c, const pipeline_options& o, bool farm) {
  executor_run r{ex, c, o, farm};
  return r.run();
}

}  // namespace taskpipe::detail
