// algorithm/detail/ordered_scan.hpp — the single-pass-where-possible scan behind parallel_*_scan.
//
// Chunks of a few thousand elements are claimed in order from a shared counter, and every finished chunk publishes
// the fold of everything up to its end (its "inclusive" value). A worker that claims a chunk whose predecessor has
// already published scans it in one pass. Otherwise it folds the chunk (publishing that "aggregate" at once), walks
// back over the published aggregates to the nearest inclusive value, publishes its own inclusive value — before
// writing, so the next chunk need not wait — and then writes the chunk in a second pass, from cache. In steady state
// the workers leapfrog and nearly every chunk takes one pass, where a plain two-phase scan always reads twice.
// (The look-back is the idea of Merrill and Garland's decoupled look-back, here on CPU threads.)
//
// A worker only ever waits for a chunk claimed before its own, whose claimer is running (claims go in order and a
// claimed chunk is always finished), so the waits end; a failing operation sets `failed` and every waiter gives up.
// Hence `op` must not itself wait for other tasks (a nested wait could run a scan helper that then waits for the
// chunk below it on the same stack).
//
// Under load. A claimer descheduled by another process would hold every later chunk up: they all wait for its value.
// So a waiter watches the chunk's progress counter, and when it has not moved for much longer than it used to (a
// stall, see stall_watch) the scan degrades: from then on nobody waits for a chunk that has not published. A chunk
// that cannot find its prefix without waiting keeps only its aggregate and is written in a second parallel pass
// after every claimer returned: the two-pass scan, but only for the chunks that needed it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "taskpipe/algorithm/detail/caller_hand_off.hpp"
#include "taskpipe/algorithm/partitioner.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::detail {

template <class T>
struct alignas(64) scan_chunk {
  enum : int { none = 0, aggregate_ready = 1, inclusive_ready = 2 };
  std::atomic<int> flag{none};
  std::atomic<std::size_t> progress{0};  // elements done by the pass that will publish `inclusive`
  std::optional<T> aggregate;            // fold of this chunk alone
  std::optional<T> inclusive;            // fold of init and every element up to this chunk's end
};

/// Watches another chunk's progress counter while waiting for it. The chunk has stalled (its claimer is most likely
/// descheduled) once the counter has not moved for `min_stall`, or for four times the longest gap seen between its
/// moves if that is longer: a costly `op` moves it rarely but steadily, and must not count as stalled.
class stall_watch {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::microseconds min_stall{100};

  explicit stall_watch(std::size_t progress) noexcept : last_(progress), since_(clock::now()) {}

  bool stalled(std::size_t progress) noexcept {
    const auto now = clock::now();
    if (progress != last_) {
      longest_gap_ = std::max(longest_gap_, now - since_);
      last_ = progress;
      since_ = now;
      return false;
    }
    return now - since_ > std::max<clock::duration>(min_stall, 4 * longest_gap_);
  }

 private:
  std::size_t last_;
  clock::time_point since_;
  clock::duration longest_gap_{};
};

template <class T, class It, class Out, class Op>
class ordered_scan {
 public:
  ordered_scan(It first, Out d_first, std::size_t n, std::size_t chunk_size, Op& op, std::optional<T> init,
               bool exclusive)
      : first_(first),
        d_first_(d_first),
        n_(n),
        size_(chunk_size),
        chunks_((n + chunk_size - 1) / chunk_size),
        state_(std::make_unique<scan_chunk<T>[]>(chunks_)),
        op_(&op),
        init_(std::move(init)),
        exclusive_(exclusive) {}

  /// Claims and scans chunks until none is left, the token stops, or another worker failed.
  void work(stop_token stop) {
    while (!stop.stop_requested() && !failed_.load(std::memory_order_relaxed)) {
      const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= chunks_) {
        return;
      }
      if (i == wake_at_) {
        hand_off_->finishing();
      }
      try {
        process(i);
      } catch (...) {
        failed_.store(true, std::memory_order_relaxed);
        throw;
      }
    }
  }

  [[nodiscard]] std::size_t chunks() const noexcept { return chunks_; }

  /// Runs the whole scan on `ex`, whose worker the caller must be; returns whether it degraded (see the header).
  /// `hand_off.finishing()` is called when the last ~1/16 of the chunks (at least two per worker) is claimed.
  bool run(executor& ex, stop_token stop, caller_hand_off& hand_off) {
    const std::size_t workers = ex.num_workers();
    if (hand_off.enabled()) {
      hand_off_ = &hand_off;
      const std::size_t tail = std::max(2 * workers, chunks_ / 16);
      wake_at_ = chunks_ > tail ? chunks_ - tail : 0;
    }
    if (chunks_ == 1 || workers == 1) {
      work(stop);  // one claimer: every chunk finds its predecessor published
      return false;
    }
    {
      task_group g{ex, stop};
      for (std::size_t w = 1; w < std::min(workers, chunks_); ++w) {
        g.spawn([this](stop_token s) { work(s); });
      }
      try {
        work(g.get_stop_token());
      } catch (...) {
        g.cancel();
        g.wait();
        throw;
      }
      g.wait();
    }
    if (!degraded_.load(std::memory_order_relaxed)) {
      return false;
    }
    if (!stop.stop_requested()) {
      second_pass(ex, stop);
    }
    return true;
  }

 private:
  using diff = std::iter_difference_t<It>;
  using out_diff = std::iter_difference_t<Out>;
  static constexpr std::size_t progress_step = 512;

  void process(std::size_t i) {
    const std::size_t lo = i * size_;
    const std::size_t hi = std::min(n_, lo + size_);
    scan_chunk<T>& me = state_[i];
    if (i == 0) {
      write(lo, hi, init_, me);
      return;
    }
    scan_chunk<T>& before = state_[i - 1];
    if (!degraded_.load(std::memory_order_relaxed) && nearly_done(before, i - 1) && !wait_for_inclusive(before)) {
      return;  // a chunk before this one failed: its exception is on its way to the caller
    }
    if (before.flag.load(std::memory_order_acquire) == scan_chunk<T>::inclusive_ready) {
      write(lo, hi, before.inclusive, me);
      return;
    }
    // Two passes: publish this chunk's fold, find the prefix, publish the inclusive value, then write.
    It it = first_ + static_cast<diff>(lo);
    T agg = static_cast<T>(*it);
    ++it;
    for (std::size_t done = 1; done < hi - lo;) {
      const std::size_t step_end = std::min(hi - lo, done + progress_step);
      for (; done < step_end; ++done, ++it) {
        agg = (*op_)(std::move(agg), *it);
      }
      me.progress.store(done, std::memory_order_relaxed);
    }
    me.aggregate.emplace(agg);
    me.flag.store(scan_chunk<T>::aggregate_ready, std::memory_order_release);
    std::optional<T> prefix = look_back(i);
    if (!prefix) {
      return;  // a chunk before failed (its exception is on its way), or the scan degraded: the second pass writes it
    }
    me.inclusive.emplace(prefix ? (*op_)(*prefix, std::move(agg)) : std::move(agg));
    me.flag.store(scan_chunk<T>::inclusive_ready, std::memory_order_release);
    write(lo, hi, prefix, me, false);
  }

  // Whether chunk j's publishing pass is at least half way (or already published).
  bool nearly_done(const scan_chunk<T>& c, std::size_t j) const noexcept {
    const std::size_t len = std::min(n_, (j + 1) * size_) - j * size_;
    return 2 * c.progress.load(std::memory_order_relaxed) >= len;
  }

  // Waits until `c` publishes its inclusive value; false when a chunk failed meanwhile. When `c` stalls, the scan
  // degrades and this returns true without the value: the caller then takes the two passes.
  bool wait_for_inclusive(const scan_chunk<T>& c) noexcept {
    stall_watch watch{c.progress.load(std::memory_order_relaxed)};
    for (unsigned spins = 0; c.flag.load(std::memory_order_acquire) != scan_chunk<T>::inclusive_ready;) {
      if (failed_.load(std::memory_order_relaxed)) {
        return false;
      }
      if (++spins % 64 == 0) {
        if (watch.stalled(c.progress.load(std::memory_order_relaxed))) {
          degraded_.store(true, std::memory_order_relaxed);
          return true;
        }
        std::this_thread::yield();  // its claimer may be descheduled on a busy machine
      }
    }
    return true;
  }

  // The fold of init and chunks [0, i) (i >= 1, so it exists); empty when a chunk before failed, or when finding it
  // would mean waiting for a chunk while the scan is degraded (or the wait stalls and degrades it).
  std::optional<T> look_back(std::size_t i) {
    std::optional<T> acc;  // the fold of the aggregates of chunks (j, i)
    std::size_t j = i - 1;
    stall_watch watch{state_[j].progress.load(std::memory_order_relaxed)};
    for (unsigned spins = 0;;) {
      const scan_chunk<T>& c = state_[j];
      const int f = c.flag.load(std::memory_order_acquire);
      if (f == scan_chunk<T>::inclusive_ready) {
        return acc ? (*op_)(*c.inclusive, std::move(*acc)) : *c.inclusive;
      }
      if (f == scan_chunk<T>::aggregate_ready) {
        acc = acc ? (*op_)(*c.aggregate, std::move(*acc)) : *c.aggregate;
        if (j == 0) {  // chunk 0 always publishes an inclusive value; kept for completeness
          return init_ ? std::optional<T>((*op_)(*init_, std::move(*acc))) : std::move(acc);
        }
        --j;
        spins = 0;
        watch = stall_watch{state_[j].progress.load(std::memory_order_relaxed)};
        continue;
      }
      if (failed_.load(std::memory_order_relaxed) || degraded_.load(std::memory_order_relaxed)) {
        return std::nullopt;
      }
      if (++spins % 64 == 0) {
        if (watch.stalled(c.progress.load(std::memory_order_relaxed))) {
          degraded_.store(true, std::memory_order_relaxed);
          return std::nullopt;
        }
        std::this_thread::yield();  // its claimer may be descheduled on a busy machine
      }
    }
  }

  // After every claimer returned, each claimed chunk has published its inclusive value (and is written) or only its
  // aggregate (and is not): fold the prefixes in order, then write the chunks left, in parallel.
  void second_pass(executor& ex, stop_token stop) {
    std::vector<std::size_t> left;
    std::vector<std::optional<T>> prefix;
    std::optional<T> running = init_;
    for (std::size_t k = 0; k < chunks_; ++k) {
      const scan_chunk<T>& c = state_[k];
      const int f = c.flag.load(std::memory_order_acquire);
      if (f == scan_chunk<T>::inclusive_ready) {
        running = *c.inclusive;
      } else if (f == scan_chunk<T>::aggregate_ready) {
        left.push_back(k);
        prefix.push_back(running);
        running = running ? (*op_)(*running, *c.aggregate) : *c.aggregate;
      } else {
        break;  // never claimed: the run was stopped, and the output stays partly written
      }
    }
    auto write_left = [this, &left, &prefix](std::size_t m) {
      const std::size_t k = left[m];
      write(k * size_, std::min(n_, (k + 1) * size_), prefix[m], state_[k], false);
    };
    task_group g{ex, stop};
    for (std::size_t m = 1; m < left.size(); ++m) {
      g.spawn([&write_left, m] { write_left(m); });
    }
    if (!left.empty()) {
      try {
        write_left(0);
      } catch (...) {
        g.cancel();
        g.wait();
        throw;
      }
    }
    g.wait();
  }

  // Writes the scan of [lo, hi) from `prefix`; publishes the chunk's inclusive value at the end when `publish`.
  void write(std::size_t lo, std::size_t hi, const std::optional<T>& prefix, scan_chunk<T>& me, bool publish = true) {
    It it = first_ + static_cast<diff>(lo);
    const It end = first_ + static_cast<diff>(hi);
    Out out = d_first_ + static_cast<out_diff>(lo);
    if (exclusive_) {
      T acc = *prefix;  // an exclusive scan always has init, so every prefix exists
      for (std::size_t done = 0; it != end;) {
        const std::size_t step_end = std::min(hi - lo, done + progress_step);
        for (; done < step_end; ++done, ++it, ++out) {
          T next = (*op_)(acc, *it);  // read *it before writing *out: they may be the same element
          *out = std::move(acc);
          acc = std::move(next);
        }
        report(me, done, publish);
      }
      finish(std::move(acc), me, publish);
      return;
    }
    T acc = prefix ? (*op_)(*prefix, *it) : static_cast<T>(*it);
    *out = acc;
    ++it;
    ++out;
    for (std::size_t done = 1; it != end;) {
      const std::size_t step_end = std::min(hi - lo, done + progress_step);
      for (; done < step_end; ++done, ++it, ++out) {
        acc = (*op_)(std::move(acc), *it);
        *out = acc;
      }
      report(me, done, publish);
    }
    finish(std::move(acc), me, publish);
  }

  // Progress of a one-pass write (the pass that publishes); a second pass's progress is of no use to anyone.
  static void report(scan_chunk<T>& me, std::size_t done, bool publish) noexcept {
    if (publish) {
      me.progress.store(done, std::memory_order_relaxed);
    }
  }

  static void finish(T&& acc, scan_chunk<T>& me, bool publish) {
    if (publish) {
      me.inclusive.emplace(std::move(acc));
      me.flag.store(scan_chunk<T>::inclusive_ready, std::memory_order_release);
    }
  }

  It first_;
  Out d_first_;
  std::size_t n_;
  std::size_t size_;
  std::size_t chunks_;
  std::unique_ptr<scan_chunk<T>[]> state_;
  Op* op_;
  std::optional<T> init_;
  bool exclusive_;
  alignas(64) std::atomic<std::size_t> next_{0};
  caller_hand_off* hand_off_ = nullptr;
  std::size_t wake_at_ = static_cast<std::size_t>(-1);  // the chunk whose claim calls hand_off_->finishing()
  std::atomic<bool> failed_{false};
  std::atomic<bool> degraded_{false};  // a wait stalled: nobody waits for an unpublished chunk any more
};

}  // namespace taskpipe::detail
