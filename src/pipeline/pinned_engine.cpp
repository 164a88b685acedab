// The `pinned` strategy: every stage owns threads (one per serial stage, `width` per parallel stage) and items flow
// between stages through bounded lock-free queues.
//
// max_in_flight is a queue of free tokens: the source takes one per item and the sink (or whoever drops an item)
// gives it back, so a stage queue never holds more than every token and a push never blocks. End of stream travels as
// queue closure: when the last thread of a stage exits, the next stage's queue is closed, and its threads exit once
// they have drained it. A serial_in_order stage behind a parallel one restores order in a ring indexed by sequence
// number.
//
// Batching: a thread pushes items downstream (and the sink returns tokens) quietly, and wakes the consumer once per
// batch: when 32 items are pending, when the stage call just made took over a microsecond (a slow stage's consumer
// should start at once; waiting would only add latency), and always before the thread blocks on its own input or
// exits. With cheap stages a consumer is then woken once per burst instead of once per item.
#include <atomic>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "taskpipe/pipeline/detail/bounded_queue.hpp"
#include "taskpipe/pipeline/detail/engines.hpp"
#include "taskpipe/pipeline/detail/recorder.hpp"
#include "taskpipe/pipeline/detail/token.hpp"

namespace taskpipe::detail {
namespace {

// A thread's pushes into one queue, waiting to be announced by a single wake-up check.
struct outbox {
  bounded_queue<token*>* q = nullptr;
  std::uint32_t pending = 0;

  void push(token* t) noexcept {
    q->push_quiet(t);
    ++pending;
  }
  void flush() noexcept {
    if (pending != 0) {
      pending = 0;
      q->notify();
    }
  }
};

constexpr std::uint32_t batch_limit = 32;

class pinned_run {
 public:
  pinned_run(chain& c, const pipeline_options& o, std::size_t width)
      : c_(c),
        o_(o),
        width_(width),
        pool_(c, o.max_in_flight),
        free_(o.max_in_flight),
        rec_(thread_total(c, width), c.stages.size(), !o.trace_path.empty(), o.time_one_in),
        slow_ticks_(static_cast<std::int64_t>(1000.0 / pipeline_clock::ns_per_tick())) {
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      free_.push(&pool_[i]);
    }
    const std::size_t n = c.stages.size();
    queues_.reserve(n);
    left_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      queues_.push_back(std::make_unique<bounded_queue<token*>>(o.max_in_flight));
      left_.push_back(std::make_unique<std::atomic<std::size_t>>(threads_of(i)));
    }
    // An in-order stage's reorder ring is allocated here, not by its thread: an exception inside a stage thread would
    // end the program.
    rings_.resize(n);
    for (std::size_t i = 1; i < n; ++i) {
      if (c.stages[i]->mode() == stage_mode::serial_in_order) {
        rings_[i].assign(o.max_in_flight, nullptr);
      }
    }
  }

  pipeline_stats run() {
    std::vector<std::thread> threads;
    threads.reserve(rec_.thread_count());
    try {
      std::size_t th = 0;
      rec_.thread(th).track_name = "source";
      threads.emplace_back([this] { source_main(); });
      for (std::size_t i = 1; i < c_.stages.size(); ++i) {
        for (std::size_t k = 0; k < threads_of(i); ++k) {
          ++th;
          rec_.thread(th).track_name =
              "stage " + std::to_string(i) + " " + c_.stages[i]->name() + " #" + std::to_string(k);
          threads.emplace_back([this, i, th] { stage_main(i, th); });
        }
      }
    } catch (...) {
      fail();  // could not start every thread: make those that run drain and exit
      for (auto& q : queues_) {
        q->close();
      }
    }
    for (auto& t : threads) {
      t.join();
    }
    pool_.destroy_leftovers(c_);
    if (error_) {
      std::rethrow_exception(error_);
    }
    pipeline_stats s = rec_.finish(c_, execution_strategy::pinned, o_.trace_path);
    s.stopped = stopped_;
    return s;
  }

 private:
  static std::size_t thread_total(const chain& c, std::size_t width) {
    std::size_t n = 1;
    for (std::size_t i = 1; i < c.stages.size(); ++i) {
      n += is_serial(c.stages[i]->mode()) ? 1 : width;
    }
    return n;
  }
  [[nodiscard]] std::size_t threads_of(std::size_t i) const {
    return i == 0 || is_serial(c_.stages[i]->mode()) ? 1 : width_;
  }

  // Waits for an item of queue q, adding the time waited to `waited`. nullptr when the queue is closed and drained.
  // Before it may block, it announces the caller's pending pushes.
  token* pop(bounded_queue<token*>& q, std::int64_t& waited, bool give_up_on_failure, outbox& out, outbox& ret) {
    token* t = nullptr;
    if (q.try_pop(t)) {
      return t;  // no wait to time
    }
    out.flush();
    ret.flush();
    const auto b = pipeline_clock::now();
    for (;;) {
      const pop_result r = q.pop(t, give_up_on_failure ? &failed_ : nullptr);
      if (r == pop_result::item) {
        break;
      }
      if (r == pop_result::closed || (give_up_on_failure && failed_.load(std::memory_order_relaxed))) {
        t = nullptr;
        break;
      }
    }
    waited += elapsed_ticks(pipeline_clock::now() - b);
    return t;
  }

  void source_main() {
    auto& counters = rec_.thread(0).stages[0];
    outbox out{queues_[1].get()};
    outbox unused{&free_};
    for (;;) {
      if (failed_.load(std::memory_order_relaxed) || o_.stop.stop_requested()) {
        stopped_ = !failed_.load(std::memory_order_relaxed);
        break;
      }
      token* t = pop(free_, counters.wait_output_ticks, true, out, unused);
      if (t == nullptr) {
        break;
      }
      const bool timed = rec_.timed(next_seq_);
      const auto b = pipeline_clock::now();
      bool got = false;
      try {
        got = c_.stages[0]->invoke(t->slot);
      } catch (...) {
        free_.push(t);
        fail();
        break;
      }
      const auto e = pipeline_clock::now();
      if (!got) {
        free_.push(t);
        break;
      }
      t->live = 0;
      t->seq = next_seq_++;
      t->timed = timed;
      t->born = b;
      if (timed) {
        rec_.executed(0, 0, t->seq, b, e);
      } else {
        rec_.counted(0, 0);
      }
      out.push(t);
      if (out.pending >= batch_limit || e - b > slow_ticks_) {
        out.flush();
      }
    }
    out.flush();
    close_after(0);
  }

  void stage_main(std::size_t i, std::size_t th) {
    auto& counters = rec_.thread(th).stages[i];
    const bool in_order = c_.stages[i]->mode() == stage_mode::serial_in_order;
    std::vector<token*>& ring = rings_[i];
    std::size_t parked = 0;
    std::uint64_t next = 0;
    outbox out{i + 1 < c_.stages.size() ? queues_[i + 1].get() : nullptr};
    outbox ret{&free_};
    while (token* t = pop(*queues_[i], counters.wait_input_ticks, false, out, ret)) {
      if (!in_order) {
        process(i, th, t, out, ret);
        continue;
      }
      token*& slot = ring[t->seq % ring.size()];
      if (slot != nullptr) {  // only after a failure: sequence numbers skipped by dropped items may wrap around
        drop(t);
        continue;
      }
      slot = t;
      ++parked;
      for (;;) {
        token*& r = ring[next % ring.size()];
        if (r == nullptr || r->seq != next) {
          break;
        }
        process(i, th, std::exchange(r, nullptr), out, ret);
        --parked;
        ++next;
      }
      if (parked != 0 && failed_.load(std::memory_order_relaxed)) {
        drop_parked(ring, parked);  // the item they wait for may have been dropped upstream
      }
    }
    if (parked != 0) {
      drop_parked(ring, parked);
    }
    out.flush();
    ret.flush();
    close_after(i);
  }

  void drop_parked(std::vector<token*>& ring, std::size_t& parked) {
    for (token*& r : ring) {
      if (r != nullptr) {
        drop(std::exchange(r, nullptr));
      }
    }
    parked = 0;
  }

  void process(std::size_t i, std::size_t th, token* t, outbox& out, outbox& ret) {
    if (failed_.load(std::memory_order_relaxed)) {
      drop(t);
      return;
    }
    const auto b = pipeline_clock::now();
    try {
      c_.stages[i]->invoke(t->slot);
    } catch (...) {
      t->live = -1;
      free_.push(t);
      fail();
      return;
    }
    const auto e = pipeline_clock::now();
    if (t->timed) {
      rec_.executed(th, i, t->seq, b, e);
    } else {
      rec_.counted(th, i);
    }
    if (i + 1 == c_.stages.size()) {
      t->live = -1;
      if (t->timed) {
        rec_.latency(th, elapsed_ticks(e - t->born));
      }
      ret.push(t);
    } else {
      t->live = static_cast<std::int32_t>(i);
      out.push(t);
    }
    if (out.pending + ret.pending >= batch_limit || e - b > slow_ticks_) {
      out.flush();
      ret.flush();
    }
  }

  void drop(token* t) {
    if (t->live >= 0) {
      c_.stages[static_cast<std::size_t>(t->live)]->destroy_output(t->slot);
      t->live = -1;
    }
    free_.push(t);
  }

  void close_after(std::size_t i) {
    if (left_[i]->fetch_sub(1, std::memory_order_acq_rel) == 1 && i + 1 < c_.stages.size()) {
      queues_[i + 1]->close();
    }
  }

  void fail() noexcept {
    {
      const std::lock_guard lock{err_m_};
      if (!error_) {
        error_ = std::current_exception();
      }
    }
    failed_.store(true, std::memory_order_relaxed);
    free_.wake_all();  // the source may be waiting for a token that will not come back
    for (auto& q : queues_) {
      q->wake_all();  // an in-order stage may hold items waiting for one that was dropped
    }
  }

  chain& c_;
  const pipeline_options& o_;
  std::size_t width_;
  token_pool pool_;
  bounded_queue<token*> free_;
  recorder rec_;
  std::int64_t slow_ticks_;  // a stage call longer than this (1 µs) is announced downstream at once
  std::vector<std::unique_ptr<bounded_queue<token*>>> queues_;   // queues_[i] feeds stage i (queues_[0] unused)
  std::vector<std::unique_ptr<std::atomic<std::size_t>>> left_;  // threads of stage i still running
  std::vector<std::vector<token*>> rings_;                       // an in-order stage's items waiting for their turn
  std::uint64_t next_seq_ = 0;                                   // the source thread's
  bool stopped_ = false;                                         // written by the source thread, read after join
  std::mutex err_m_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

}  // namespace

pipeline_stats run_pinned(executor& ex, chain& c, const pipeline_options& o) {
  pinned_run r{c, o, o.pinned_width != 0 ? o.pinned_width : ex.num_workers()};
  return r.run();
}

}  // namespace taskpipe::detail
