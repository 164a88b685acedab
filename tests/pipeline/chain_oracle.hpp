// A random stage chain for property tests, with the bookkeeping to check a run against the sequential oracle:
// what each stage saw, in which order, how many items were alive at once, and that no item leaked.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "taskpipe/pipeline/pipeline.hpp"
#include "taskpipe/runtime/stop_token.hpp"

namespace taskpipe::testing {

/// An item that counts its live instances (moved-from ones do not count), so leaks and double destruction show.
struct tracked_item {
  static inline std::atomic<int> alive{0};
  static inline std::atomic<int> peak{0};
  int seq = -1;
  std::uint64_t value = 0;         // transformed by every stage (see chain_observer::expected_value)
  std::vector<std::uint8_t> path;  // stages the item went through, in order
  bool owns = false;

  explicit tracked_item(int s) : seq(s), value(static_cast<std::uint64_t>(s)), owns(true) {
    const int now = alive.fetch_add(1) + 1;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
  }
  tracked_item(tracked_item&& o) noexcept
      : seq(o.seq), value(o.value), path(std::move(o.path)), owns(std::exchange(o.owns, false)) {}
  tracked_item& operator=(tracked_item&&) = delete;
  tracked_item(const tracked_item&) = delete;
  ~tracked_item() {
    if (owns) {
      alive.fetch_sub(1);
    }
  }
};

struct stage_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct chain_spec {
  std::vector<stage_mode> modes;  // modes[0] is the source (always serial); the last is the sink
  int items = 0;
  std::size_t max_in_flight = 1;
  int fail_stage = -1;  // this stage throws on item fail_item
  int fail_item = -1;
  int stop_stage = -1;  // this stage requests a stop when it sees item stop_item
  int stop_item = -1;
  std::uint64_t delay_seed = 0;

  static chain_spec random(std::mt19937_64& rng, execution_strategy /*every strategy takes any chain*/) {
    chain_spec c;
    const int stages = std::uniform_int_distribution<int>{2, 8}(rng);
    c.modes.push_back(stage_mode::serial_in_order);
    for (int i = 1; i < stages; ++i) {
      c.modes.push_back(static_cast<stage_mode>(std::uniform_int_distribution<int>{0, 2}(rng)));
    }
    c.items = std::uniform_int_distribution<int>{0, 150}(rng);
    c.max_in_flight = std::uniform_int_distribution<std::size_t>{1, 32}(rng);
    c.delay_seed = rng();
    return c;
  }
};

/// What a run observed, filled in by the chain's stage functions.
class chain_observer {
 public:
  explicit chain_observer(const chain_spec& spec)
      : spec_(spec),
        hits_(spec.modes.size() * static_cast<std::size_t>(spec.items + 1)),
        inside_(spec.modes.size()),
        order_(spec.modes.size()) {}

  runnable_pipeline build(executor& ex, pipeline_options o) {
    o.max_in_flight = spec_.max_in_flight;
    o.stop = stop_.get_token();
    auto b = pipeline{ex, o}.source([this, next = 0]() mutable -> std::optional<tracked_item> {
      if (next == spec_.items) {
        return std::nullopt;
      }
      tracked_item it{next++};
      visit(0, it);
      return it;
    });
    return add_stages(std::move(b), 1);
  }

  static void reset_counts() {
    tracked_item::alive.store(0);
    tracked_item::peak.store(0);
  }

  [[nodiscard]] int hits(std::size_t stage, int item) const {
    return hits_[stage * static_cast<std::size_t>(spec_.items + 1) + static_cast<std::size_t>(item)].load();
  }
  /// Most items alive at once: from the source's construction of an item to the destruction of its last owner.
  [[nodiscard]] static int peak_live() { return tracked_item::peak.load(); }
  [[nodiscard]] int overlap_seen() const { return overlap_.load(); }
  [[nodiscard]] const std::vector<int>& order(std::size_t stage) const { return order_[stage]; }
  [[nodiscard]] int produced() const { return produced_.load(); }
  /// Items that reached the sink having skipped, repeated or reordered a stage, or carrying another value than the
  /// sequential fold of every stage's transformation over their sequence number.
  [[nodiscard]] int wrong_at_sink() const { return wrong_at_sink_.load(); }
  /// Items the sink saw.
  [[nodiscard]] int reached_sink() const { return reached_sink_.load(); }

  /// One stage's transformation: not an identity and not commutative across stages, so a skipped, repeated or
  /// reordered stage, or an item swapped with another, changes the value.
  static std::uint64_t transform(std::uint64_t v, std::size_t stage) {
    v = (v ^ (0x9e3779b97f4a7c15ULL * (stage + 1))) * 0xbf58476d1ce4e5b9ULL;
    return v ^ (v >> 31U);
  }
  /// The sequential oracle: what an item numbered `seq` carries after stages 0..last.
  [[nodiscard]] std::uint64_t expected_value(int seq) const {
    std::uint64_t v = static_cast<std::uint64_t>(seq);
    for (std::size_t stage = 0; stage < spec_.modes.size(); ++stage) {
      v = transform(v, stage);
    }
    return v;
  }

 private:
  runnable_pipeline add_stages(pipeline_builder<tracked_item>&& b, std::size_t i) {
    const std::size_t last = spec_.modes.size() - 1;
    if (i == last) {
      return std::move(b).sink(spec_.modes[i], [this, i](tracked_item it) { visit(i, it); });
    }
    auto next = std::move(b).stage(spec_.modes[i], [this, i](tracked_item it) {
      visit(i, it);
      return it;
    });
    return add_stages(std::move(next), i + 1);
  }

  void visit(std::size_t stage, tracked_item& it) {
    const bool serial = is_serial(spec_.modes[stage]);
    if (serial && inside_[stage].fetch_add(1) != 0) {
      overlap_.store(static_cast<int>(stage) + 1);
    }
    if (stage == 0) {
      produced_.fetch_add(1);
    }
    hits_[stage * static_cast<std::size_t>(spec_.items + 1) + static_cast<std::size_t>(it.seq)].fetch_add(1);
    it.path.push_back(static_cast<std::uint8_t>(stage));
    it.value = transform(it.value, stage);
    if (stage + 1 == spec_.modes.size()) {
      reached_sink_.fetch_add(1);
      bool right = it.path.size() == spec_.modes.size() && it.value == expected_value(it.seq);
      for (std::size_t k = 0; right && k < it.path.size(); ++k) {
        right = it.path[k] == k;
      }
      if (!right) {
        wrong_at_sink_.fetch_add(1);
      }
    }
    if (spec_.modes[stage] == stage_mode::serial_in_order) {
      order_[stage].push_back(it.seq);  // serial: no lock needed, and a sanitizer flags it if that promise breaks
    }
    delay(stage, it.seq);
    if (serial) {
      inside_[stage].fetch_sub(1);
    }
    if (static_cast<int>(stage) == spec_.stop_stage && it.seq == spec_.stop_item) {
      stop_.request_stop();
    }
    if (static_cast<int>(stage) == spec_.fail_stage && it.seq == spec_.fail_item) {
      throw stage_failure("stage " + std::to_string(stage) + " failed on item " + std::to_string(it.seq));
    }
  }

  // A deterministic pseudo-random delay: mostly none, sometimes a short spin, rarely a sleep.
  void delay(std::size_t stage, int seq) const {
    const std::uint64_t item = static_cast<std::uint32_t>(seq);
    std::uint64_t h = spec_.delay_seed ^ (stage * 0x9e3779b97f4a7c15ULL) ^ (item * 0xc2b2ae3d27d4eb4fULL);
    h ^= h >> 29U;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32U;
    const auto r = h % 100;
    if (r < 10) {
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<std::int64_t>(h % 20));
      while (std::chrono::steady_clock::now() < until) {
      }
    } else if (r < 12) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  const chain_spec& spec_;
  std::vector<std::atomic<int>> hits_;
  std::vector<std::atomic<int>> inside_;
  std::vector<std::vector<int>> order_;
  std::atomic<int> produced_{0};
  std::atomic<int> reached_sink_{0};
  std::atomic<int> wrong_at_sink_{0};
  std::atomic<int> overlap_{0};
  stop_source stop_;
};

}  // namespace taskpipe::testing
