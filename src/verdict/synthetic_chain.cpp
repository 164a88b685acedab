#include "taskpipe/verdict/synthetic_chain.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "taskpipe/error.hpp"
#include "taskpipe/verdict/cpu_burn.hpp"

namespace taskpipe::verdict {
namespace {

std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

double unit(std::uint64_t x) noexcept { return static_cast<double>(mix(x) >> 11U) * 0x1.0p-53; }

/// A log-normal draw with mean `mean` and coefficient of variation `cv`, from two uniform numbers (Box-Muller).
double draw(double mean, double cv, std::uint64_t key) noexcept {
  if (mean <= 0 || cv <= 0) {
    return std::max(mean, 0.0);
  }
  const double sigma2 = std::log1p(cv * cv);
  const double mu = std::log(mean) - sigma2 / 2;
  const double u1 = std::max(unit(key), 1e-300);
  const double u2 = unit(key ^ 0x5851f42d4c957f2dULL);
  const double z = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  return std::exp(mu + std::sqrt(sigma2) * z);
}

struct item {
  std::uint64_t seq = 0;
  std::vector<std::byte> payload;
};

/// The work of one stage on one item.
class stage_work {
 public:
  stage_work(const stage_workload& s, std::size_t index)
      : m_spec(s), m_index(index), m_state(s.state_bytes / sizeof(std::uint64_t)) {}

  void operator()(item& it) {
    const double us = draw(m_spec.cost_us, m_spec.spread, it.seq * 131U + m_index);
    if (!m_state.empty()) {
      const std::size_t lines = std::min<std::size_t>(256, std::max<std::size_t>(1, m_state.size() / 8));
      std::uint64_t k = mix(it.seq ^ (m_index << 48U));
      for (std::size_t l = 0; l < lines; ++l) {
        k = mix(k);
        auto& word = m_state[k % m_state.size()];
        if (m_spec.mode == stage_mode::parallel) {  // concurrent calls share the state
          std::atomic_ref<std::uint64_t>(word).fetch_add(it.seq, std::memory_order_relaxed);
        } else {
          word += it.seq;
        }
      }
    }
    burn_cpu(us);
    it.payload.resize(m_spec.item_bytes);
  }

 private:
  stage_workload m_spec;
  std::size_t m_index;
  std::vector<std::uint64_t> m_state;
};

}  // namespace

runnable_pipeline make_synthetic_pipeline(executor& ex, const chain_workload& w, const pipeline_options& options) {
  validate(w);
  burn_cpu(1);  // calibrates the work rate before anything is timed
  const std::size_t n = w.stages.size();
  // A pipeline's stage list is typed at compile time; a workload's length is known only at run time. Every middle
  // stage has the same type (item -> item), so the chain is built by a loop over one builder type.
  auto works = std::make_shared<std::vector<stage_work>>();
  works->reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    works->emplace_back(w.stages[i], i);
  }
  auto next = std::make_shared<std::uint64_t>(0);
  const std::uint64_t total = w.items;
  pipeline_builder<item> chain = pipeline{ex, options}.source(
      [works, next, total]() -> std::optional<item> {
        if (*next >= total) {
          return std::nullopt;
        }
        item it{(*next)++, {}};
        (*works)[0](it);
        return it;
      },
      w.stages[0].name);
  // Every middle stage maps item -> item, so the builder keeps one type and a run-time list of stages is a loop.
  for (std::size_t i = 1; i + 1 < n; ++i) {
    chain = std::move(chain).stage(
        w.stages[i].mode,
        [works, i](item it) {
          (*works)[i](it);
          return it;
        },
        w.stages[i].name);
  }
  const bool ordered = w.stages[n - 1].mode == stage_mode::serial_in_order;
  auto expected = std::make_shared<std::uint64_t>(0);
  return std::move(chain).sink(
      w.stages[n - 1].mode,
      [works, n, ordered, expected](item it) {
        (*works)[n - 1](it);
        if (ordered && it.seq != (*expected)++) {
          throw error("synthetic chain: the in-order sink saw item " + std::to_string(it.seq) + " out of order");
        }
      },
      w.stages[n - 1].name);
}

}  // namespace taskpipe::verdict
