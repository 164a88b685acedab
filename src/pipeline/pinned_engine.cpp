// The `pinned` strategy: the chain is cut into segments of consecutive stages placed on a fixed budget of threads
// (detail/pinned_placement.hpp); a segment's threads run each of its stages on an item in turn and items flow between
// segments through bounded lock-free queues. No more threads run stage bodies than the budget.
//
// max_in_flight is a queue of free tokens: the source takes one per item and the sink (or whoever drops an item)
// gives it back, so a stage queue never holds more than every token and a push never blocks. End of stream travels as
// queue closure: when the last thread of a segment exits, the next segment's queue is closed, and its threads exit once
// they have drained it. A segment holding a serial_in_order stage (it has one thread) restores order at its entry in
// a ring indexed by sequence number, so every stage of it sees items in order.
//
// Helping (detail/pinned_placement.hpp): a helped segment has no thread of its own (or only threads that help).
// Every thread, whenever its own input is empty, takes items from the helped segments' queues (the last segment
// first, to drain the chain) and runs them through the segment; it sleeps only when its own input and every helped
// queue are empty, on one doorbell that every queue rings. A helped segment is finished once its queue is closed and
// empty and no thread holds one of its items (a count of helpers inside it, read with a read-modify-write against the
// closing so neither side misses the other); then its output queue is closed. A thread whose own segment has ended
// keeps helping until every helped segment has finished, so the helped work never lacks a thread.
//
// Batching: a thread pushes items downstream (and the sink returns tokens) quietly, and wakes the consumer once per
// batch: when 32 items are pending, when the stage call just made took over a microsecond (a slow stage's consumer
// should start at once; waiting would only add latency), and always before the thread blocks on its own input or
// exits. With cheap stages a consumer is then woken once per burst instead of once per item.
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "taskpipe/pipeline/detail/bounded_queue.hpp"
#include "taskpipe/pipeline/detail/engines.hpp"
#include "taskpipe/pipeline/detail/pinned_placement.hpp"
#include "taskpipe/pipeline/detail/recorder.hpp"
#include "taskpipe/pipeline/detail/token.hpp"
#include "taskpipe/runtime/detail/cpu_relax.hpp"

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

// Marks a thread as looking for work without sleeping, in a count the source thread reads (see pop_helping).
class spin_mark {
 public:
  explicit spin_mark(std::atomic<int>& count, bool counts) noexcept : count_(count), counts_(counts) {}
  spin_mark(const spin_mark&) = delete;
  spin_mark& operator=(const spin_mark&) = delete;
  ~spin_mark() { set(false); }
  void set(bool spinning) noexcept {
    if (counts_ && spinning != on_) {
      on_ = spinning;
      count_.fetch_add(spinning ? 1 : -1, std::memory_order_relaxed);
    }
  }

 private:
  std::atomic<int>& count_;
  bool counts_;
  bool on_ = false;
};

class pinned_run {
 public:
  pinned_run(chain& c, const pipeline_options& o, std::vector<pinned_segment> segs, std::chrono::nanoseconds spin)
      : c_(c),
        o_(o),
        spin_(spin),
        segs_(std::move(segs)),
        pool_(c, o.max_in_flight),
        free_(o.max_in_flight),
        rec_(thread_total(segs_), c.stages.size(), !o.trace_path.empty(), o.time_one_in),
        slow_ticks_(static_cast<std::int64_t>(1000.0 / pipeline_clock::ns_per_tick())),
        long_help_ticks_(50 * slow_ticks_) {
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      free_.push(&pool_[i]);
    }
    const std::size_t n = segs_.size();
    queues_.reserve(n);
    left_.reserve(n);
    for (std::size_t s = 0; s < n; ++s) {
      queues_.push_back(std::make_unique<bounded_queue<token*>>(o.max_in_flight));
      left_.push_back(std::make_unique<std::atomic<std::size_t>>(segs_[s].threads));
      busy_.push_back(std::make_unique<std::atomic<std::size_t>>(0));
      helped_ticks_.push_back(std::make_unique<std::atomic<std::int64_t>>(0));
      finished_.push_back(std::make_unique<std::atomic<bool>>(false));
    }
    for (std::size_t s = n; s-- > 1;) {
      if (segs_[s].helped) {
        helped_.push_back(s);  // the last first: draining the chain's end frees tokens soonest
      }
    }
    if (!helped_.empty()) {
      helper_out_.resize(thread_total(segs_));
      for (auto& row : helper_out_) {
        row.resize(n);
        for (const std::size_t h : helped_) {
          row[h].q = h + 1 < n ? queues_[h + 1].get() : nullptr;
        }
      }
      free_.attach(&bell_);
      for (auto& q : queues_) {
        q->attach(&bell_);
      }
    }
    // A segment's reorder ring is allocated here, not by its thread: an exception inside a stage thread would end the
    // program.
    rings_.resize(n);
    for (std::size_t s = 1; s < n; ++s) {
      for (std::size_t i = segs_[s].first; i <= segs_[s].last; ++i) {
        if (c.stages[i]->mode() == stage_mode::serial_in_order) {
          rings_[s].assign(o.max_in_flight, nullptr);
        }
      }
    }
  }

  pipeline_stats run() {
    std::vector<std::thread> threads;
    threads.reserve(rec_.thread_count());
    try {
      std::size_t th = 0;
      rec_.thread(th).track_name = track_name(0, 0);
      threads.emplace_back([this] { source_main(); });
      for (std::size_t s = 1; s < segs_.size(); ++s) {
        for (std::size_t k = 0; k < segs_[s].threads; ++k) {
          ++th;
          rec_.thread(th).track_name = track_name(s, k);
          if (segs_[s].helped) {
            threads.emplace_back([this, th] { helper_main(th); });
          } else {
            threads.emplace_back([this, s, th] { segment_main(s, th); });
          }
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
    std::vector<std::string> names;
    for (const auto& st : s.stages) {
      names.push_back(st.name);
    }
    s.placement = describe_placement(segs_, names);
    const std::size_t total = thread_total(segs_);
    std::size_t thread = 0;
    for (const auto& seg : segs_) {
      for (std::size_t i = seg.first; i <= seg.last; ++i) {
        s.stages[i].pinned_thread = seg.helped ? 0 : thread;
        s.stages[i].pinned_threads = seg.helped ? total : seg.threads;
      }
      thread += seg.threads;
    }
    s.threads = total;
    return s;
  }

 private:
  static std::size_t thread_total(const std::vector<pinned_segment>& segs) {
    std::size_t n = 0;
    for (const auto& s : segs) {
      n += s.threads;
    }
    return n;
  }
  [[nodiscard]] std::string track_name(std::size_t s, std::size_t k) const {
    // Appended piece by piece: GCC 12 mis-warns (-Wrestrict) on a literal + std::string in optimised builds.
    std::string name = s == 0 ? "source" : "stage ";
    if (s != 0) {
      name += std::to_string(segs_[s].first);
    }
    for (std::size_t i = std::max<std::size_t>(segs_[s].first, 1); i <= segs_[s].last; ++i) {
      name += i == segs_[s].first ? ' ' : '+';
      name += c_.stages[i]->name();
    }
    name += " #";
    name += std::to_string(k);
    return name;
  }

  // Waits for an item of queue q, adding the time waited to `waited`. nullptr when the queue is closed and drained.
  // Before it may block, it announces the caller's pending pushes. With helped segments it helps while it waits.
  token* pop(bounded_queue<token*>& q, std::int64_t& waited, bool give_up_on_failure, outbox& out, outbox& ret,
             std::size_t th) {
    token* t = nullptr;
    if (q.try_pop(t)) {
      return t;  // no wait to time
    }
    out.flush();
    ret.flush();
    if (!helped_.empty()) {
      return pop_helping(q, waited, give_up_on_failure, ret, th);
    }
    const auto b = pipeline_clock::now();
    for (;;) {
      const pop_result r = q.pop(t, spin_, give_up_on_failure ? &failed_ : nullptr);
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

  // The source thread waiting for a token leaves long helped items (the last one took over `long_help_ticks_`, 50 us)
  // to the others for a while (`source_defers` rounds of back-off) when a token is on its way back without help (past
  // the helped segments) or a thread is spinning for work: a source that took a long helped item would read nothing
  // until it finished, while the other thread, its own input empty, idled (with 2 tokens the gzip chain ran on one
  // thread at a time, 175-196 items/s of 2 threads' 380; now 248-371). Short items it takes at once: waiting would
  // cost more than the item (the stateful chain's 0.7 us hashes ran 20 % slower with the wait).
  static constexpr int source_defers = 64;

  [[nodiscard]] bool helped_items_long() const noexcept {
    for (const std::size_t h : helped_) {
      if (helped_ticks_[h]->load(std::memory_order_relaxed) > long_help_ticks_) {
        return true;
      }
    }
    return false;
  }

  [[nodiscard]] bool token_returning_unhelped() const noexcept {
    std::size_t at_helped = 0;
    for (const std::size_t h : helped_) {
      at_helped += queues_[h]->approx_size() + busy_[h]->load(std::memory_order_relaxed);
    }
    return at_helped < o_.max_in_flight;
  }

  token* pop_helping(bounded_queue<token*>& q, std::int64_t& waited, bool give_up_on_failure, outbox& ret,
                     std::size_t th) {
    token* t = nullptr;
    std::chrono::steady_clock::time_point deadline{};
    spin_mark mark{spinning_, th != 0};
    const bool source = th == 0 && &q == &free_;
    int deferred = 0;
    for (int idle = 0;;) {
      if (q.try_pop(t)) {
        return t;
      }
      if (source && deferred < source_defers && helped_items_long() &&
          (spinning_.load(std::memory_order_relaxed) > 0 || token_returning_unhelped())) {
        ++deferred;
      } else if (help_one(th, ret)) {
        idle = 0;
        mark.set(false);
        continue;
      }
      if (q.is_closed() || (give_up_on_failure && failed_.load(std::memory_order_relaxed))) {
        return q.try_pop(t) ? t : nullptr;
      }
      if (back_off(idle, deadline)) {
        mark.set(true);
        continue;
      }
      mark.set(false);
      flush_helped(th);
      ret.flush();
      const auto b = pipeline_clock::now();
      const std::uint32_t e = bell_.arm();
      const bool found = q.try_pop(t);
      if (!found && !q.is_closed() && !(give_up_on_failure && failed_.load(std::memory_order_acquire)) &&
          !helped_work()) {
        bell_.sleep(e);
      }
      bell_.disarm();
      waited += elapsed_ticks(pipeline_clock::now() - b);
      if (found) {
        return t;
      }
    }
  }

  // A helping thread that found no work spins, then yields until the executor's spin time is up, like
  // bounded_queue::pop, before it sleeps on the doorbell: a wake-up takes far longer than the gaps between items, and
  // the thread that pushed would take the item itself (it helps too) before the sleeper is up. True while the caller
  // should look again rather than sleep; `idle` = 0 starts a new wait.
  bool back_off(int& idle, std::chrono::steady_clock::time_point& deadline) const noexcept {
    if (idle == 0) {
      deadline = std::chrono::steady_clock::now() + spin_;
    }
    if (idle < 8) {
      for (int i = 0; i < 16; ++i) {
        cpu_relax();
      }
    } else if (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    } else {
      return false;
    }
    ++idle;
    return true;
  }

  // Runs one item of a helped segment, the last segment first; false when every helped queue is empty. Its pushes
  // are batched like a segment thread's (see process()), in the thread's own outboxes, flushed before it sleeps.
  bool help_one(std::size_t th, outbox& ret) {
    for (const std::size_t h : helped_) {
      if (queues_[h]->is_empty()) {  // skip the helper count while there is nothing to take
        if (queues_[h]->is_closed()) {
          finish_if_done(h);
        }
        continue;
      }
      busy_[h]->fetch_add(1, std::memory_order_seq_cst);
      token* t = nullptr;
      const bool got = queues_[h]->try_pop(t);
      if (got) {
        process(h, segs_[h].first, th, t, helper_out_[th][h], ret);
      }
      busy_[h]->fetch_sub(1, std::memory_order_seq_cst);
      finish_if_done(h);
      if (got) {
        return true;
      }
    }
    return false;
  }

  [[nodiscard]] bool helped_work() const noexcept {
    for (const std::size_t h : helped_) {
      if (!queues_[h]->is_empty()) {
        return true;
      }
    }
    return false;
  }

  [[nodiscard]] bool helped_finished() const noexcept {
    for (const std::size_t h : helped_) {
      if (!finished_[h]->load(std::memory_order_acquire)) {
        return false;
      }
    }
    return true;
  }

  // After the thread's own segment has ended: helps until every helped segment has finished.
  void help_until_done(std::size_t th, outbox& ret) {
    std::chrono::steady_clock::time_point deadline{};
    spin_mark mark{spinning_, th != 0};
    for (int idle = 0; !helped_finished();) {
      if (help_one(th, ret)) {
        idle = 0;
        mark.set(false);
        continue;
      }
      if (back_off(idle, deadline)) {
        mark.set(true);
        continue;
      }
      mark.set(false);
      flush_helped(th);
      ret.flush();
      const std::uint32_t e = bell_.arm();
      if (!helped_finished() && !helped_work()) {
        bell_.sleep(e);
      }
      bell_.disarm();
    }
  }

  void helper_main(std::size_t th) {
    outbox ret{&free_};
    help_until_done(th, ret);
    flush_helped(th);
    ret.flush();
  }

  void flush_helped(std::size_t th) noexcept {
    for (auto& o : helper_out_[th]) {
      o.flush();
    }
  }

  // A helped segment whose queue is closed and drained, with no helper inside, closes its output (once).
  void finish_if_done(std::size_t h) {
    if (queues_[h]->is_closed() && busy_[h]->fetch_add(0, std::memory_order_seq_cst) == 0 && queues_[h]->is_empty() &&
        !finished_[h]->exchange(true, std::memory_order_acq_rel)) {
      if (h + 1 < segs_.size()) {
        close_queue(h + 1);
      } else {
        bell_.ring();
      }
    }
  }

  void close_queue(std::size_t s) {
    queues_[s]->close();
    if (segs_[s].helped) {
      finish_if_done(s);
    }
  }

  void source_main() {
    auto& counters = rec_.thread(0).stages[0];
    outbox out{segs_.size() > 1 ? queues_[1].get() : nullptr};
    outbox ret{&free_};
    for (;;) {
      if (failed_.load(std::memory_order_relaxed) || o_.stop.stop_requested()) {
        stopped_ = !failed_.load(std::memory_order_relaxed);
        break;
      }
      token* t = pop(free_, counters.wait_output_ticks, true, out, ret, 0);
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
      if (segs_[0].last == 0) {
        out.push(t);
        if (out.pending >= batch_limit || e - b > slow_ticks_) {
          out.flush();
        }
      } else {
        process(0, 1, 0, t, out, ret);
      }
    }
    out.flush();
    ret.flush();
    close_after(0);
    if (!helped_.empty()) {
      help_until_done(0, ret);
      flush_helped(0);
      ret.flush();
    }
  }

  void segment_main(std::size_t s, std::size_t th) {
    const std::size_t i = segs_[s].first;
    auto& counters = rec_.thread(th).stages[i];
    std::vector<token*>& ring = rings_[s];
    const bool in_order = !ring.empty();
    std::size_t parked = 0;
    std::uint64_t next = 0;
    outbox out{s + 1 < segs_.size() ? queues_[s + 1].get() : nullptr};
    outbox ret{&free_};
    while (token* t = pop(*queues_[s], counters.wait_input_ticks, false, out, ret, th)) {
      if (!in_order) {
        process(s, i, th, t, out, ret);
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
        process(s, i, th, std::exchange(r, nullptr), out, ret);
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
    close_after(s);
    if (!helped_.empty()) {
      help_until_done(th, ret);
      flush_helped(th);
      ret.flush();
    }
  }

  void drop_parked(std::vector<token*>& ring, std::size_t& parked) {
    for (token*& r : ring) {
      if (r != nullptr) {
        drop(std::exchange(r, nullptr));
      }
    }
    parked = 0;
  }

  // Runs stages `first` to the end of segment s on item t, then hands it on (or, after the sink, frees its token).
  void process(std::size_t s, std::size_t first, std::size_t th, token* t, outbox& out, outbox& ret) {
    auto b = pipeline_clock::now();
    const auto start = b;
    for (std::size_t i = first; i <= segs_[s].last; ++i) {
      if (failed_.load(std::memory_order_relaxed)) {
        drop(t);
        return;
      }
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
        if (i == segs_[s].last) {
          out.push(t);
        }
      }
      b = e;
    }
    if (segs_[s].helped) {
      helped_ticks_[s]->store(b - start, std::memory_order_relaxed);
    }
    if (out.pending + ret.pending >= batch_limit || b - start > slow_ticks_) {
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

  void close_after(std::size_t s) {
    if (left_[s]->fetch_sub(1, std::memory_order_acq_rel) == 1 && s + 1 < segs_.size()) {
      close_queue(s + 1);
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
  std::chrono::nanoseconds spin_;  // how long a waiting thread looks before it sleeps: the executor's spin_before_sleep
  std::vector<pinned_segment> segs_;
  token_pool pool_;
  bounded_queue<token*> free_;
  recorder rec_;
  std::int64_t slow_ticks_;  // a stage call longer than this (1 µs) is announced downstream at once
  std::vector<std::unique_ptr<bounded_queue<token*>>> queues_;   // queues_[s] feeds segment s (queues_[0] unused)
  std::vector<std::unique_ptr<std::atomic<std::size_t>>> left_;  // threads of segment s still running
  std::vector<std::vector<token*>> rings_;                       // an in-order segment's items waiting for their turn
  std::vector<std::size_t> helped_;                              // the helped segments, the last first
  std::vector<std::vector<outbox>> helper_out_;  // [thread][helped segment]: a helping thread's pushes downstream
  std::vector<std::unique_ptr<std::atomic<std::size_t>>> busy_;  // helpers inside helped segment s
  std::vector<std::unique_ptr<std::atomic<bool>>> finished_;     // helped segment s has closed its output
  doorbell bell_;                                                // rung by every queue when there are helped segments
  alignas(64) std::atomic<int> spinning_{0};  // threads but the source looking for work without sleeping
  std::vector<std::unique_ptr<std::atomic<std::int64_t>>> helped_ticks_;  // helped segment s's last item, in ticks
  std::int64_t long_help_ticks_;                                          // 50 us
  std::uint64_t next_seq_ = 0;                                            // the source thread's
  bool stopped_ = false;  // written by the source thread, read after join
  std::mutex err_m_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
};

}  // namespace

pipeline_stats run_pinned(executor& ex, chain& c, const pipeline_options& o) {
  const std::size_t n = c.stages.size();
  std::vector<double> cost(n, 1.0);  // nothing known: every stage alike
  if (!o.stage_costs.empty()) {
    cost = o.stage_costs;
  } else if (c.measured_cost_ns.size() == n) {
    cost = c.measured_cost_ns;
  }
  std::vector<bool> serial(n);
  for (std::size_t i = 0; i < n; ++i) {
    serial[i] = i == 0 || is_serial(c.stages[i]->mode());
  }
  const std::size_t budget = o.pinned_threads != 0 ? o.pinned_threads : ex.num_workers();
  pinned_run r{c, o, place_pinned(cost, serial, budget, o.pinned_width), ex.spin_before_sleep()};
  return r.run();
}

}  // namespace taskpipe::detail
