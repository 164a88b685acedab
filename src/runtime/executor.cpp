#include "taskpipe/runtime/executor.hpp"

namespace taskpipe {

executor::executor(executor_options options) : sched_(std::make_unique<detail::scheduler>(options)) {}

executor::~executor() = default;

std::size_t executor::num_workers() const noexcept { return sched_->worker_count(); }

std::chrono::microseconds executor::spin_before_sleep() const noexcept { return sched_->options().spin_before_sleep; }

std::optional<std::size_t> executor::this_worker_index() const noexcept {
  if (const detail::worker* w = sched_->local_worker()) {
    return w->index;
  }
  return std::nullopt;
}

std::vector<worker_stats> executor::stats() const {
  std::vector<worker_stats> out(sched_->worker_count());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& c = sched_->worker_at(i).counters;
    out[i] = {c.tasks_run.load(std::memory_order_relaxed), c.steals.load(std::memory_order_relaxed),
              c.failed_steals.load(std::memory_order_relaxed), c.sleeps.load(std::memory_order_relaxed)};
  }
  return out;
}

}  // namespace taskpipe
