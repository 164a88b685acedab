// detail/task_pool.hpp — where task blocks come from: a per-worker free list over chunks owned by a shared depot.
//
// A worker allocates and frees task blocks from its own free list without any atomic operation. Blocks are
// fungible: a block freed by a thief joins the thief's list. To keep one worker from hoarding blocks that another
// keeps allocating, a list that grows past two batches hands a batch back to the depot; an empty list takes a batch
// from the depot (or a new chunk) under the depot's mutex — once per `batch_size` allocations, never per spawn.
//
// Thread safety: task_pool is owner-thread only; task_depot is thread-safe. Every block lives until the depot dies.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "taskpipe/runtime/detail/task.hpp"

namespace taskpipe::detail {

class task_depot {
 public:
  static constexpr std::size_t batch_size = 256;

  /// A linked list of exactly batch_size free blocks.
  task* take_batch();
  void give_batch(task* head);
  /// One block, for threads that are not workers (workers later free it into their own pools).
  task* take_one();

 private:
  task* take_batch_locked();

  std::mutex mutex_;
  std::vector<std::unique_ptr<task[]>> chunks_;
  std::vector<task*> batches_;
  task* singles_ = nullptr;
};

class task_pool {
 public:
  explicit task_pool(task_depot& depot) noexcept : depot_(&depot) {}

  task* allocate() {
    if (free_ != nullptr) [[likely]] {
      task* t = free_;
      free_ = t->next_free;
      --free_count_;
      return t;
    }
    return refill();
  }

  void release(task* t) noexcept {
    t->next_free = free_;
    free_ = t;
    if (++free_count_ > 2 * task_depot::batch_size) [[unlikely]] {
      spill();
    }
  }

 private:
  task* refill();
  void spill() noexcept;

  task_depot* depot_;
  task* free_ = nullptr;
  std::size_t free_count_ = 0;
};

}  // namespace taskpipe::detail
