// A random DAG oracle for graph and dependent-async tests: random sizes and edges, plus per-task sequence stamps that
// prove every task ran exactly once and only after all of its predecessors had finished.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace taskpipe::test {

struct random_dag {
  std::size_t size = 0;
  std::vector<std::pair<std::size_t, std::size_t>> edges;  // from -> to

  /// `max_size` tasks at most; each pair is an edge with probability `density`, oriented by a random order.
  static random_dag make(std::mt19937_64& rng, std::size_t max_size, double density) {
    random_dag d;
    d.size = std::uniform_int_distribution<std::size_t>{0, max_size}(rng);
    std::vector<std::size_t> order(d.size);
    for (std::size_t i = 0; i < d.size; ++i) {
      order[i] = i;
    }
    std::shuffle(order.begin(), order.end(), rng);
    std::bernoulli_distribution edge{density};
    for (std::size_t i = 0; i < d.size; ++i) {
      for (std::size_t j = i + 1; j < d.size; ++j) {
        if (edge(rng)) {
          d.edges.emplace_back(order[i], order[j]);
        }
      }
    }
    return d;
  }
};

/// Stamps each task's start and end from one global clock and counts its runs.
class stamp_log {
 public:
  explicit stamp_log(std::size_t n) : start_(n), end_(n), runs_(std::make_unique<std::atomic<int>[]>(n)), n_(n) {}

  void run(std::size_t i) {
    start_[i] = clock_.fetch_add(1, std::memory_order_acq_rel);
    runs_[i].fetch_add(1, std::memory_order_relaxed);
    end_[i] = clock_.fetch_add(1, std::memory_order_acq_rel);
  }

  /// "" when every task ran `expected_runs` times (in its last run after every predecessor), else what went wrong.
  [[nodiscard]] std::string check(const random_dag& d, int expected_runs) const {
    for (std::size_t i = 0; i < n_; ++i) {
      if (runs_[i].load() != expected_runs) {
        return "task " + std::to_string(i) + " ran " + std::to_string(runs_[i].load()) + " times";
      }
    }
    for (const auto& [from, to] : d.edges) {
      if (expected_runs > 0 && !(end_[from] < start_[to])) {
        return "task " + std::to_string(to) + " started before its predecessor " + std::to_string(from) + " ended";
      }
    }
    return "";
  }

 private:
  std::atomic<std::uint64_t> clock_{0};
  std::vector<std::uint64_t> start_;
  std::vector<std::uint64_t> end_;
  std::unique_ptr<std::atomic<int>[]> runs_;
  std::size_t n_;
};

}  // namespace taskpipe::test
