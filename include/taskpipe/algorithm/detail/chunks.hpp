// algorithm/detail/chunks.hpp — the engine under every parallel algorithm: cut [0, n) into chunks by a partitioner,
// then run `fn(chunk_index, lo, hi)` for every chunk on the executor, under one task_group chained to the caller's
// stop token.
//
// Chunk boundaries are computed before anything runs, so an algorithm can keep one slot per chunk (a partial sum, a
// scan carry) and combine the slots in index order, which is what keeps non-commutative operations correct.
// Algorithms called off the executor's workers hop onto a worker first (the caller then sleeps until done), so the
// caller's thread never competes with the workers and every spawn is a cheap push to a worker's own deque.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

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

/// Runs `body()` on a worker of `ex`: directly when the caller is one, else as the one task of a group the caller
/// waits for. A group rather than `async`: its result and exception stay on the caller's stack, with no heap state.
template <class Body>
auto on_worker(executor& ex, Body&& body) {
  using result = std::invoke_result_t<Body&>;
  if (ex.this_worker_index()) {
    return body();
  }
  task_group g{ex};
  if constexpr (std::is_void_v<result>) {
    g.spawn([&body] { body(); });
    g.wait();
  } else {
    std::optional<result> out;
    g.spawn([&body, &out] { out.emplace(body()); });
    g.wait();
    return std::move(*out);
  }
}

template <class Fn>
void split_chunks(executor& ex, const chunk_plan& plan, std::size_t first, std::size_t last, stop_token stop, Fn& fn) {
  task_group g{ex, stop};
  while (last - first > 1) {
    const std::size_t mid = first + (last - first) / 2;
    g.spawn([&ex, &plan, mid, last, &fn](stop_token s) { split_chunks(ex, plan, mid, last, s, fn); });
    last = mid;
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
      split_chunks(ex, plan, 0, chunks, stop, fn);
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

}  // namespace taskpipe::detail
