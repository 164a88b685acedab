#include "taskpipe/runtime/detail/task_pool.hpp"

namespace taskpipe::detail {

task* task_depot::take_batch_locked() {
  if (!batches_.empty()) {
    task* head = batches_.back();
    batches_.pop_back();
    return head;
  }
  auto chunk = std::make_unique<task[]>(batch_size);
  for (std::size_t i = 0; i + 1 < batch_size; ++i) {
    chunk[i].next_free = &chunk[i + 1];
  }
  chunk[batch_size - 1].next_free = nullptr;
  task* head = chunk.get();
  chunks_.push_back(std::move(chunk));
  return head;
}

task* task_depot::take_batch() {
  const std::lock_guard lock{mutex_};
  return take_batch_locked();
}

void task_depot::give_batch(task* head) {
  const std::lock_guard lock{mutex_};
  batches_.push_back(head);
}

task* task_depot::take_one() {
  const std::lock_guard lock{mutex_};
  if (singles_ == nullptr) {
    singles_ = take_batch_locked();
  }
  task* t = singles_;
  singles_ = t->next_free;
  return t;
}

task* task_pool::refill() {
  task* head = depot_->take_batch();
  free_ = head->next_free;
  free_count_ = task_depot::batch_size - 1;
  return head;
}

void task_pool::spill() noexcept {
  // Hand the first batch_size blocks back; keep the rest.
  task* head = free_;
  task* last = head;
  for (std::size_t i = 1; i < task_depot::batch_size; ++i) {
    last = last->next_free;
  }
  free_ = last->next_free;
  last->next_free = nullptr;
  free_count_ -= task_depot::batch_size;
  try {
    depot_->give_batch(head);
  } catch (...) {
    // Out of memory growing the depot's index: keep the blocks here rather than lose them.
    last->next_free = free_;
    free_ = head;
    free_count_ += task_depot::batch_size;
  }
}

}  // namespace taskpipe::detail
