// How a run's work was spread over threads: each thread counts the calls it made of one stage, and after the run the
// busiest thread's share of them is read. 100 % means one thread did all of that stage's work (the run was
// sequential, whatever the number of threads); 50 % on two threads is an even split. The counts are per thread and
// relaxed, so counting costs a few nanoseconds per call and no thread waits on another. Unlike the wall time, the
// share is hardly changed by other processes on the machine, so it shows on a loaded machine whether a runtime got
// its second thread to work.
//
// Thread safety: `count()` from any thread (each thread counts into one thread_share only: a thread that alternates
// between two would register a new counter at every switch); `mark()` and `busiest_share_since_mark()` from any
// thread while nothing counts.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace taskpipe::bench {

class thread_share {
 public:
  /// One call by the calling thread.
  void count() { mine().fetch_add(1, std::memory_order_relaxed); }

  /// Remembers every thread's count, the start of a run.
  void mark() {
    const std::lock_guard lock{m_};
    base_.resize(counts_.size());
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      base_[i] = counts_[i].load(std::memory_order_relaxed);
    }
  }

  /// The busiest thread's share (0 to 1) of the calls since `mark()`; 0 when there were none.
  [[nodiscard]] double busiest_share_since_mark() const {
    const std::lock_guard lock{m_};
    std::uint64_t total = 0;
    std::uint64_t most = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      const std::uint64_t d = counts_[i].load(std::memory_order_relaxed) - (i < base_.size() ? base_[i] : 0);
      total += d;
      most = std::max(most, d);
    }
    return total == 0 ? 0.0 : static_cast<double>(most) / static_cast<double>(total);
  }

 private:
  // The calling thread's counter in this object, registered on its first call (a deque never moves its elements).
  std::atomic<std::uint64_t>& mine() {
    thread_local const thread_share* owner = nullptr;
    thread_local std::atomic<std::uint64_t>* slot = nullptr;
    if (owner != this) {
      const std::lock_guard lock{m_};
      slot = &counts_.emplace_back(0);
      owner = this;
    }
    return *slot;
  }

  mutable std::mutex m_;
  std::deque<std::atomic<std::uint64_t>> counts_;
  std::vector<std::uint64_t> base_;
};

}  // namespace taskpipe::bench
