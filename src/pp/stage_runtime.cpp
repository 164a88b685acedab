#include "taskpipe/pp/stage_runtime.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/pp/detail/thread_start.hpp"
#include "taskpipe/pp/inproc_transport.hpp"
#include "taskpipe/pp/validate.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <latch>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

namespace taskpipe::pp {

namespace {

using clock = std::chrono::steady_clock;

// One rank's thread: its action list, its local hand-offs between stages it holds, and what it recorded.
class rank_worker {
 public:
  rank_worker(const schedule& s, std::span<const stage_callbacks> callbacks, transport& link, int rank,
              clock::time_point origin)
      : s_(s), callbacks_(callbacks), link_(link), rank_(rank), origin_(origin) {}

  void run() {
    for (const action& a : s_.orders[static_cast<std::size_t>(rank_)]) {
      execute(a);
    }
  }

  std::vector<timed_action>& record() noexcept { return record_; }

 private:
  using key = std::tuple<int, int, flow>;

  payload take(int from_stage, const message_tag& tag) {
    const int from = s_.rank_of(from_stage);
    if (from != rank_) {
      return link_.recv(rank_, from, tag);
    }
    const auto it = local_.find({tag.stage, tag.microbatch, tag.direction});
    // Validation proved the producer ran earlier on this rank, so the hand-off is there unless the IR was changed
    // under us; fail loudly rather than read past the map.
    if (it == local_.end()) {
      throw error("stage runtime: rank " + std::to_string(rank_) + " lost a local hand-off");
    }
    payload data = std::move(it->second);
    local_.erase(it);
    return data;
  }

  void give(int to_stage, const message_tag& tag, payload data) {
    const int to = s_.rank_of(to_stage);
    if (to == rank_) {
      local_.emplace(key{tag.stage, tag.microbatch, tag.direction}, std::move(data));
    } else {
      link_.send(rank_, to, tag, std::move(data));
    }
  }

  double now() const { return std::chrono::duration<double>(clock::now() - origin_).count(); }

  void execute(const action& a) {
    const stage_callbacks& cb = callbacks_[static_cast<std::size_t>(a.stage)];
    const int last = s_.stages - 1;
    const int mb = a.microbatch;
    payload input;
    if (a.kind == action_kind::forward && a.stage > 0) {
      input = take(a.stage - 1, {a.stage, mb, flow::activation});
    } else if (produces_input_grad(a.kind) && a.stage < last) {
      input = take(a.stage + 1, {a.stage, mb, flow::gradient});
    }
    const double start = now();
    switch (a.kind) {
      case action_kind::forward: {
        payload out = cb.forward(mb, input);
        const double finish = now();
        if (a.stage < last) {
          give(a.stage + 1, {a.stage + 1, mb, flow::activation}, std::move(out));
        }
        record_.push_back({a, rank_, start, finish});
        return;
      }
      case action_kind::backward_input:
      case action_kind::backward_full: {
        payload grad = cb.backward_input(mb, input);
        if (a.kind == action_kind::backward_full) {
          cb.backward_weight(mb);
        }
        const double finish = now();
        if (a.stage > 0) {
          give(a.stage - 1, {a.stage - 1, mb, flow::gradient}, std::move(grad));
        }
        record_.push_back({a, rank_, start, finish});
        return;
      }
      case action_kind::backward_weight:
        cb.backward_weight(mb);
        record_.push_back({a, rank_, start, now()});
        return;
    }
  }

  const schedule& s_;
  std::span<const stage_callbacks> callbacks_;
  transport& link_;
  int rank_;
  clock::time_point origin_;
  std::map<key, payload> local_;
  std::vector<timed_action> record_;
};

void check_callbacks(const schedule& s, std::span<const stage_callbacks> callbacks, const transport* link) {
  if (static_cast<int>(callbacks.size()) != s.stages) {
    throw invalid_argument("run_schedule: " + std::to_string(callbacks.size()) + " callback sets for " +
                           std::to_string(s.stages) + " stages: expected one per stage");
  }
  for (std::size_t i = 0; i < callbacks.size(); ++i) {
    if (!callbacks[i].forward || !callbacks[i].backward_input || !callbacks[i].backward_weight) {
      throw invalid_argument("run_schedule: stage " + std::to_string(i) +
                             " lacks a callback: forward, backward_input and backward_weight are all required");
    }
  }
  if (link != nullptr && link->ranks() != s.ranks) {
    throw invalid_argument("run_schedule: the transport connects " + std::to_string(link->ranks()) +
                           " ranks, the schedule has " + std::to_string(s.ranks));
  }
}

}  // namespace

run_result run_rank(const schedule& s, std::span<const stage_callbacks> callbacks, transport& link, int rank) {
  validate(s);
  if (rank < 0 || rank >= s.ranks || link.ranks() != s.ranks || static_cast<int>(callbacks.size()) != s.stages) {
    throw invalid_argument("run_rank: rank " + std::to_string(rank) + " of a " + std::to_string(s.ranks) +
                           "-rank schedule over a " + std::to_string(link.ranks()) + "-rank transport with " +
                           std::to_string(callbacks.size()) + " callback sets for " + std::to_string(s.stages) +
                           " stages");
  }
  for (int st = 0; st < s.stages; ++st) {
    const stage_callbacks& cb = callbacks[static_cast<std::size_t>(st)];
    if (s.rank_of(st) == rank && (!cb.forward || !cb.backward_input || !cb.backward_weight)) {
      throw invalid_argument("run_rank: stage " + std::to_string(st) + " of rank " + std::to_string(rank) +
                             " lacks a callback");
    }
  }
  rank_worker worker(s, callbacks, link, rank, clock::now());
  try {
    worker.run();
  } catch (...) {
    link.close();
    throw;
  }
  run_result result;
  result.ranks = s.ranks;
  result.actions = std::move(worker.record());
  for (const timed_action& ta : result.actions) {
    result.makespan_s = std::max(result.makespan_s, ta.finish);
  }
  return result;
}

trace::timeline run_result::timeline() const { return make_timeline(ranks, actions, 1e6); }

run_result run_schedule(const schedule& s, std::span<const stage_callbacks> callbacks, transport* link) {
  validate(s);
  check_callbacks(s, callbacks, link);
  inproc_transport fallback(s.ranks);
  transport& channel = link != nullptr ? *link : fallback;

  std::latch start_line(s.ranks + 1);
  std::mutex failure_mutex;
  std::exception_ptr failure;
  // Times are taken against one origin and shifted to the first action's start, so thread start-up is not counted.
  const clock::time_point origin = clock::now();
  std::vector<rank_worker> workers;
  workers.reserve(static_cast<std::size_t>(s.ranks));
  for (int r = 0; r < s.ranks; ++r) {
    workers.emplace_back(s, callbacks, channel, r, origin);
  }
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(s.ranks));
  bool abandoned = false;  // written before the start line opens, read after it: the latch orders both
  for (int r = 0; r < s.ranks; ++r) {
    auto rank_main = [&, r] {
      start_line.arrive_and_wait();
      if (abandoned) {
        return;  // a later rank's thread did not start: nobody runs
      }
      try {
        workers[static_cast<std::size_t>(r)].run();
      } catch (...) {
        {
          const std::lock_guard lock{failure_mutex};
          // The first failure is the cause; later ones are ranks woken by the closed transport.
          if (!failure) {
            failure = std::current_exception();
          }
        }
        channel.close();
      }
    };
    try {
      threads.push_back(detail::start_rank_thread(r, rank_main));
    } catch (const std::exception& e) {
      // The threads already started wait at the start line: open it for them, as if the ranks that did not start
      // had arrived, and let them leave without running (a rank running alone would wait forever for the others).
      abandoned = true;
      start_line.count_down(static_cast<std::ptrdiff_t>(s.ranks - r) + 1);
      for (auto& t : threads) {
        t.join();
      }
      throw error("stage runtime: could not start the thread of rank " + std::to_string(r) + " of " +
                  std::to_string(s.ranks) + ": " + e.what());
    }
  }
  start_line.arrive_and_wait();
  for (auto& t : threads) {
    t.join();
  }
  if (failure) {
    std::rethrow_exception(failure);
  }

  run_result result;
  result.ranks = s.ranks;
  for (auto& w : workers) {
    for (auto& ta : w.record()) {
      result.actions.push_back(ta);
    }
  }
  std::stable_sort(result.actions.begin(), result.actions.end(),
                   [](const timed_action& a, const timed_action& b) { return a.start < b.start; });
  if (!result.actions.empty()) {
    const double first = result.actions.front().start;
    double last = 0;
    for (auto& ta : result.actions) {
      ta.start -= first;
      ta.finish -= first;
      last = std::max(last, ta.finish);
    }
    result.makespan_s = last;
  }
  return result;
}

}  // namespace taskpipe::pp
