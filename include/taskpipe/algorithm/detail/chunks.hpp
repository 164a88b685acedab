// algorithm/detail/chunks.hpp — the engine under every parallel algorithm: cut [0, n) into chunks by a partitioner,
// then run `fn(chunk_index, lo, hi)` for every chunk on the executor, under one task_group chained to the caller's
// stop token.
//
// Chunk boundaries are computed before anything runs, so an algorithm can keep one slot per chunk (a partial sum, a
// scan carry) and combine the slots in index order, which is what keeps non-commutative operations correct.
// Algorithms called off the executor's workers hop onto a worker first (on_worker, caller_hand_off.hpp: the caller
// then waits, woken when the last few chunks start), so the caller's thread never competes with the workers and every
// spawn is a cheap push to a worker's own deque.
// The automatic partitioner starts each call's worker on that worker's own share of the range (home_chunk): which
// worker picks a call up is chance, but the part of the range a worker runs first is not, so the data it touched on
// the previous call over the same range is still in its caches, as with two plain threads that split a loop in halves.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

#include "taskpipe/algorithm/detail/caller_hand_off.hpp"
#include "taskpipe/algorithm/partitioner.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/stop_token.hpp"
#include "taskpipe/runtime/task_group.hpp"

namespace taskpipe::detail {

struct chunk_plan {
  std::vector<std::size_t> bounds;  // chunk i is [bounds[i], bounds[i + 1])
  partitioner::kind mode = partitioner::kind::automatic;

  [[nodiscard]] std::size_t size() const noexcept { return bounds.empty() ? 0 : bounds.size() - 1; }

  /// `min_grain` is the algorithm's own floor for an unspecified grain.
  static chunk_plan make(std::size_t n, std::size_t workers, partitioner p, std::size_t min_grain = 1) {
    chunk_plan plan;
    plan.mode = p.mode;
    if (n == 0) {
      return plan;
    }
    const std::size_t grain = std::max<std::size_t>(p.grain == 0 ? min_grain : p.grain, 1);
    const std::size_t max_chunks = n / grain + (n % grain != 0 ? 1 : 0);  // n + grain - 1 may wrap
    if (p.mode == partitioner::kind::guided) {
      plan.bounds.push_back(0);
      std::size_t lo = 0;
      while (lo < n) {
        const std::size_t step = std::min(n - lo, std::max(grain, (n - lo) / (2 * workers)));
        lo += step;
        plan.bounds.push_back(lo);
      }
      return plan;
    }
    const std::size_t wanted = p.mode == partitioner::kind::fixed ? workers : 32 * workers;
    const std::size_t chunks = std::max<std::size_t>(1, std::min(wanted, max_chunks));
    plan.bounds.resize(chunks + 1);
    const std::size_t base = n / chunks;
    const std::size_t extra = n % chunks;
    for (std::size_t i = 0; i <= chunks; ++i) {
      plan.bounds[i] = i * base + std::min(i, extra);
    }
    return plan;
  }
};

/// The first chunk of the share of `chunks` that worker `index` of `workers` takes first: the index-th of `workers`
/// equal shares, so that on every call the same worker starts on the same part of the range.
[[nodiscard]] constexpr std::size_t home_chunk(std::size_t index, std::size_t workers, std::size_t chunks) noexcept {
  return workers == 0 || index >= workers ? 0 : index * chunks / workers;
}

/// The chunk of [first, last) the calling worker starts on: its home chunk where that lies in the range, else the
/// first (a thief that stole a piece of another worker's share).
[[nodiscard]] inline std::size_t home_within(const executor& ex, std::size_t chunks, std::size_t first,
                                             std::size_t last) {
  const std::size_t home = home_chunk(ex.this_worker_index().value_or(0), ex.num_workers(), chunks);
  return home >= first && home < last ? home : first;
}

/// Runs chunks [first, last): halves them down to chunk `home` (in [first, last)), leaving every half it does not
/// descend into to thieves, then runs the chunks left in its own deque, nearest first. A thief starts on its own
/// home chunk where the piece it stole holds it.
template <class Fn>
void split_chunks(executor& ex, const chunk_plan& plan, std::size_t first, std::size_t last, stop_token stop, Fn& fn,
                  std::size_t home) {
  task_group g{ex, stop};
  while (last - first > 1) {
    const std::size_t mid = first + (last - first) / 2;
    if (home < mid) {
      g.spawn([&ex, &plan, mid, last, &fn](stop_token s) {
        split_chunks(ex, plan, mid, last, s, fn, home_within(ex, plan.size(), mid, last));
      });
      last = mid;
    } else {
      g.spawn([&ex, &plan, first, mid, &fn](stop_token s) {
        split_chunks(ex, plan, first, mid, s, fn, home_within(ex, plan.size(), first, mid));
      });
      first = mid;
    }
  }
  if (!g.is_cancelling()) {
    try {
      fn(first, plan.bounds[first], plan.bounds[first + 1]);
    } catch (...) {
      g.cancel();
      g.wait();  // the first exception wins: ours, unless a child threw first
      throw;
    }
  }
  g.wait();
}

/// Runs fn(i, lo, hi) for every chunk; rethrows the first exception after the rest stopped. Must run on a worker.
template <class Fn>
void run_chunks(executor& ex, const chunk_plan& plan, stop_token stop, Fn& fn) {
  const std::size_t chunks = plan.size();
  if (chunks == 0 || stop.stop_requested()) {
    return;
  }
  if (chunks == 1) {
    fn(0, plan.bounds[0], plan.bounds[1]);
    return;
  }
  switch (plan.mode) {
    case partitioner::kind::automatic:
      split_chunks(ex, plan, 0, chunks, stop, fn, home_within(ex, chunks, 0, chunks));
      return;
    case partitioner::kind::fixed: {
      task_group g{ex, stop};
      for (std::size_t i = chunks; i-- > 1;) {
        g.spawn([&plan, &fn, i] { fn(i, plan.bounds[i], plan.bounds[i + 1]); });
      }
      try {
        fn(0, plan.bounds[0], plan.bounds[1]);
      } catch (...) {
        g.cancel();
        g.wait();
        throw;
      }
      g.wait();
      return;
    }
    case partitioner::kind::guided: {
      std::atomic<std::size_t> cursor{0};
      auto claim_loop = [&plan, &fn, &cursor, chunks](stop_token s) {
        for (std::size_t i = cursor.fetch_add(1, std::memory_order_relaxed); i < chunks && !s.stop_requested();
             i = cursor.fetch_add(1, std::memory_order_relaxed)) {
          fn(i, plan.bounds[i], plan.bounds[i + 1]);
        }
      };
      task_group g{ex, stop};
      for (std::size_t w = 1; w < std::min(ex.num_workers(), chunks); ++w) {
        g.spawn(claim_loop);
      }
      try {
        claim_loop(g.get_stop_token());
      } catch (...) {
        g.cancel();
        g.wait();
        throw;
      }
      g.wait();
      return;
    }
  }
}

/// Which chunk, counted in the order chunks start (from 1), wakes a caller waiting off the workers (see
/// caller_hand_off.hpp): the one after which two chunks per worker are left to start, the last ~1/16 of the work under
/// the automatic partitioner.
[[nodiscard]] constexpr std::size_t wake_at_chunk(std::size_t chunks, std::size_t workers) noexcept {
  const std::size_t tail = 2 * workers;
  return chunks > tail ? chunks - tail : 1;
}

/// Runs fn(i, lo, hi) for every chunk; rethrows the first exception after the rest stopped. Must run on a worker.
/// The start of chunk number wake_at_chunk() (in starting order) calls `hand_off.finishing()`.
template <class Fn>
void run_chunks(executor& ex, const chunk_plan& plan, stop_token stop, Fn& fn, caller_hand_off& hand_off) {
  if (!hand_off.enabled() || plan.size() < 2) {
    run_chunks(ex, plan, stop, fn);
    return;
  }
  std::atomic<std::size_t> started{0};
  const std::size_t wake_at = wake_at_chunk(plan.size(), ex.num_workers());
  auto counted = [&fn, &started, &hand_off, wake_at](std::size_t i, std::size_t lo, std::size_t hi) {
    if (started.fetch_add(1, std::memory_order_relaxed) + 1 == wake_at) {
      hand_off.finishing();
    }
    fn(i, lo, hi);
  };
  run_chunks(ex, plan, stop, counted);
}

}  // namespace taskpipe::detail
