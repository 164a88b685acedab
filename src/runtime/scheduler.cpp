#include "taskpipe/runtime/detail/scheduler.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "taskpipe/error.hpp"
#include "taskpipe/runtime/detail/cpu_relax.hpp"

namespace taskpipe::detail {
namespace {

constexpr std::size_t max_workers = 4096;

std::uint64_t next_random(std::uint64_t& state) noexcept {  // xorshift64*
  state ^= state >> 12U;
  state ^= state << 25U;
  state ^= state >> 27U;
  return state * 0x2545F4914F6CDD1DULL;
}

std::size_t resolve_worker_count(std::size_t requested) {
  if (requested == 0) {
    requested = std::max(1U, std::thread::hardware_concurrency());
  }
  if (requested > max_workers) {
    throw invalid_argument("executor_options.workers = " + std::to_string(requested) +
                           " is out of range; accepted: 0 (one per hardware thread) to " + std::to_string(max_workers));
  }
  return requested;
}

}  // namespace

parker& this_thread_parker() noexcept {
  thread_local parker p;
  return p;
}

scheduler::scheduler(const executor_options& options) : options_(options) {
  const std::size_t n = resolve_worker_count(options.workers);
  options_.workers = n;
  workers_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<worker>(*this, i, depot_));
  }
  sleeping_.reserve(n);
  threads_.reserve(n);
  try {
    for (std::size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, w = workers_[i].get()] { worker_main(*w); });
    }
  } catch (...) {
    stopping_.store(true, std::memory_order_seq_cst);
    wake_all();
    for (auto& t : threads_) {
      t.join();
    }
    throw;
  }
}

scheduler::~scheduler() {
  {
    std::unique_lock lock{detached_mutex_};
    detached_done_.wait(lock, [this] { return detached_.load(std::memory_order_acquire) == 0; });
  }
  stopping_.store(true, std::memory_order_seq_cst);
  wake_all();
  for (auto& t : threads_) {
    t.join();
  }
}

void scheduler::detached_end() noexcept {
  if (detached_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // Runs on a worker, which the destructor joins before the mutex dies.
    const std::lock_guard lock{detached_mutex_};
    detached_done_.notify_all();
  }
}

void scheduler::submit(worker* w, task* t) {
  if (w != nullptr) {
    w->deque.push(t);
  } else {
    const std::lock_guard lock{submitted_mutex_};
    submitted_.push_back(t);
    submitted_count_.fetch_add(1, std::memory_order_relaxed);
  }
  // Pairs with sleep(): either a sleeper sees the new epoch and stays awake, or this load sees the sleeper.
  publish_epoch_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) {
    wake_one();
  }
}

void scheduler::worker_main(worker& w) noexcept {
  tls_worker = &w;
  for (;;) {
    task* t = w.deque.pop();
    if (t == nullptr) {
      t = find_work(w, nullptr);
      if (t == nullptr) {
        break;  // stopping, and no work anywhere
      }
    }
    execute(w, t);
  }
  tls_worker = nullptr;
}

void scheduler::help_until(worker& w, const wait_target& target) noexcept {
  while (!target.done(target.self)) {
    task* t = w.deque.pop();
    if (t == nullptr) {
      t = find_work(w, &target);
      if (t == nullptr) {
        return;  // the target is done
      }
    }
    execute(w, t);
  }
}

void scheduler::block_until(const wait_target& target) const noexcept {
  // A thread that is not a worker usually shares the cores with every worker (an executor's default width is one
  // worker per core), so it spins only for about a microsecond, then yields the core at every check — when the
  // workers need the core they get it, when nobody does the check comes round in about half a microsecond — and
  // parks once the workers' own spin time has passed.
  for (int i = 0; i < 64; ++i) {
    if (target.done(target.self)) {
      return;
    }
    cpu_relax();
  }
  using clock = std::chrono::steady_clock;
  for (const auto deadline = clock::now() + options_.spin_before_sleep; clock::now() < deadline;) {
    if (target.done(target.self)) {
      return;
    }
    std::this_thread::yield();
  }
  parker& me = this_thread_parker();
  wait_node node{me};
  while (target.arm(target.self, node)) {
    me.park();  // a stale permit may return at once: the loop checks again
    target.disarm(target.self, node);
  }
}

task* scheduler::steal_round(worker& w) noexcept {
  const std::size_t n = workers_.size();
  if (n > 1) {
    const std::size_t start = static_cast<std::size_t>(next_random(w.rng) % n);
    for (std::size_t k = 0; k < n; ++k) {
      worker& victim = *workers_[(start + k) % n];
      if (&victim == &w) {
        continue;
      }
      for (;;) {
        auto [item, outcome] = victim.deque.steal();
        if (outcome == steal_outcome::success) {
          worker_counters::bump(w.counters.steals);
          return item;
        }
        worker_counters::bump(w.counters.failed_steals);
        if (outcome == steal_outcome::empty) {
          break;
        }
      }
    }
  }
  if (task* t = take_submitted()) {
    worker_counters::bump(w.counters.steals);
    return t;
  }
  return nullptr;
}

task* scheduler::take_submitted() noexcept {
  if (submitted_count_.load(std::memory_order_relaxed) == 0) {
    return nullptr;
  }
  const std::lock_guard lock{submitted_mutex_};
  if (submitted_.empty()) {
    return nullptr;
  }
  task* t = submitted_.front();
  submitted_.pop_front();
  submitted_count_.fetch_sub(1, std::memory_order_relaxed);
  return t;
}

bool scheduler::work_visible() const noexcept {
  if (submitted_count_.load(std::memory_order_relaxed) != 0) {
    return true;
  }
  return std::any_of(workers_.begin(), workers_.end(), [](const auto& w) { return !w->deque.empty(); });
}

task* scheduler::find_work(worker& w, const wait_target* target) noexcept {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + options_.spin_before_sleep;
  for (unsigned round = 0;; ++round) {
    const std::uint64_t epoch = publish_epoch_.load(std::memory_order_acquire);
    if (target != nullptr && target->done(target->self)) {
      return nullptr;
    }
    if (task* t = w.deque.pop()) {
      return t;
    }
    if (task* t = steal_round(w)) {
      return t;
    }
    if (target == nullptr && stopping_.load(std::memory_order_acquire) && !work_visible()) {
      return nullptr;
    }
    if (clock::now() < deadline) {
      // The first rounds only pause (~1 µs each), to catch work spawned right after this worker ran dry; later
      // rounds also yield, so that a thread with real work on this core (the caller waiting to go on, another
      // process) never waits on an idle worker for more than one round.
      for (int i = 0; i < 32; ++i) {
        cpu_relax();
      }
      if (round >= 4) {
        std::this_thread::yield();
      }
      continue;
    }
    sleep(w, target, epoch);
    deadline = clock::now() + options_.spin_before_sleep;
  }
}

void scheduler::sleep(worker& w, const wait_target* target, std::uint64_t searched_epoch) noexcept {
  {
    const std::lock_guard lock{sleepers_mutex_};
    sleeping_.push_back(&w);  // capacity reserved for every worker: cannot throw
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
  }
  wait_node node{w.park};
  const bool armed = target == nullptr || target->arm(target->self, node);
  // Work submitted after the last search bumped the epoch; work submitted later sees this worker in the sleeper
  // count and wakes it (see submit()). Spawns into a worker's own deque are only checked, not guaranteed.
  const bool nothing_to_do = armed && publish_epoch_.load(std::memory_order_seq_cst) == searched_epoch &&
                             !work_visible() && (target != nullptr || !stopping_.load(std::memory_order_seq_cst));
  if (nothing_to_do) {
    worker_counters::bump(w.counters.sleeps);
    w.park.park();
  }
  if (target != nullptr && armed) {
    target->disarm(target->self, node);
  }
  const std::lock_guard lock{sleepers_mutex_};
  if (auto it = std::find(sleeping_.begin(), sleeping_.end(), &w); it != sleeping_.end()) {
    sleeping_.erase(it);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void scheduler::wake_one() noexcept {
  worker* w = nullptr;
  {
    const std::lock_guard lock{sleepers_mutex_};
    if (!sleeping_.empty()) {
      w = sleeping_.back();
      sleeping_.pop_back();
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  if (w != nullptr) {
    w->park.unpark();
  }
}

void scheduler::wake_all() noexcept {
  const std::lock_guard lock{sleepers_mutex_};
  for (worker* w : sleeping_) {
    w->park.unpark();
  }
  sleeping_.clear();
  sleepers_.store(0, std::memory_order_relaxed);
}

}  // namespace taskpipe::detail
