// Property tests: random chains (2–8 stages, random modes, random per-item delays, max_in_flight 1–32) under each
// strategy, checked against the sequential oracle — with no failure, with a stop, and with a throw at a random point.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "chain_oracle.hpp"
#include "common/strategy_name.hpp"

namespace {

using taskpipe::execution_strategy;
using taskpipe::testing::chain_observer;
using taskpipe::testing::chain_spec;
using taskpipe::testing::tracked_item;

constexpr int chains_per_case = 25;

// Rounds alternate between two executors: the default one (2 workers that spin before they sleep) and a stress one
// (more workers than this machine's cores, none spinning), so hand-offs are also checked where every wake-up goes
// through a sleep and threads are preempted in the middle of a stage.
struct executors {
  taskpipe::executor calm{{.workers = 2}};
  taskpipe::executor eager{{.workers = 6, .spin_before_sleep = std::chrono::microseconds{0}}};
  taskpipe::executor& for_round(int round) { return round % 2 == 0 ? calm : eager; }
  static std::string name(int round) {
    return round % 2 == 0 ? " executor: 2 workers, default spin" : " executor: 6 workers, spin_before_sleep 0";
  }
};

// A fresh seed each run (TASKPIPE_TEST_SEED=N replays one); every failure message carries it.
std::uint64_t run_seed() {
  if (const char* fixed = std::getenv("TASKPIPE_TEST_SEED")) {
    return std::strtoull(fixed, nullptr, 0);
  }
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32U) ^ rd();
}

class property : public testing::TestWithParam<execution_strategy> {};

std::string describe(const chain_spec& c) {
  std::string s = "modes=";
  for (auto m : c.modes) {
    s += m == taskpipe::stage_mode::parallel ? 'p' : (m == taskpipe::stage_mode::serial_in_order ? 'i' : 'o');
  }
  return s + " items=" + std::to_string(c.items) + " max_in_flight=" + std::to_string(c.max_in_flight) +
         " fail=" + std::to_string(c.fail_stage) + "@" + std::to_string(c.fail_item) +
         " stop=" + std::to_string(c.stop_stage) + "@" + std::to_string(c.stop_item);
}

// Checks the promises shared by every outcome: serial stages never overlap, in-order stages see increasing
// sequence numbers, the live bound holds, and no item leaked or was destroyed twice.
void check_common(const chain_spec& c, const chain_observer& obs) {
  EXPECT_EQ(obs.overlap_seen(), 0) << "a serial stage (number + 1) ran two items at once";
  EXPECT_LE(obs.peak_live(), static_cast<int>(c.max_in_flight));
  EXPECT_EQ(tracked_item::alive.load(), 0) << "an item leaked or was destroyed twice";
  EXPECT_EQ(obs.wrong_at_sink(), 0) << "an item reached the sink with a wrong path or value";
  for (std::size_t s = 0; s < c.modes.size(); ++s) {
    const auto& o = obs.order(s);
    for (std::size_t k = 1; k < o.size(); ++k) {
      ASSERT_LT(o[k - 1], o[k]) << "serial_in_order stage " << s << " out of order";
    }
  }
}

TEST_P(property, every_item_reaches_every_stage_once_in_order) {
  const std::uint64_t seed = run_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (TASKPIPE_TEST_SEED=" + std::to_string(seed) + " replays it)");
  std::mt19937_64 rng{seed};
  executors both;
  for (int round = 0; round < chains_per_case; ++round) {
    auto& ex = both.for_round(round);
    chain_spec c = chain_spec::random(rng, GetParam());
    SCOPED_TRACE(describe(c) + executors::name(round));
    chain_observer obs{c};
    obs.reset_counts();
    auto stats = obs.build(ex, {.strategy = GetParam(), .pinned_width = 2}).run();
    EXPECT_EQ(stats.items, static_cast<std::uint64_t>(c.items));
    EXPECT_EQ(obs.reached_sink(), c.items);
    for (std::size_t s = 0; s < c.modes.size(); ++s) {
      EXPECT_EQ(stats.stages[s].items, static_cast<std::uint64_t>(c.items));
      for (int i = 0; i < c.items; ++i) {
        ASSERT_EQ(obs.hits(s, i), 1) << "stage " << s << " item " << i;
      }
      if (c.modes[s] == taskpipe::stage_mode::serial_in_order) {
        EXPECT_EQ(obs.order(s).size(), static_cast<std::size_t>(c.items));
      }
    }
    check_common(c, obs);
  }
}

TEST_P(property, a_stop_at_a_random_point_finishes_every_produced_item) {
  const std::uint64_t seed = run_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (TASKPIPE_TEST_SEED=" + std::to_string(seed) + " replays it)");
  std::mt19937_64 rng{seed};
  executors both;
  for (int round = 0; round < chains_per_case; ++round) {
    auto& ex = both.for_round(round);
    chain_spec c = chain_spec::random(rng, GetParam());
    if (c.items == 0) {
      continue;
    }
    c.stop_stage = std::uniform_int_distribution<int>{0, static_cast<int>(c.modes.size()) - 1}(rng);
    c.stop_item = std::uniform_int_distribution<int>{0, c.items - 1}(rng);
    SCOPED_TRACE(describe(c) + executors::name(round));
    chain_observer obs{c};
    obs.reset_counts();
    auto stats = obs.build(ex, {.strategy = GetParam(), .pinned_width = 2}).run();
    const int produced = obs.produced();
    EXPECT_GT(produced, c.stop_item);
    EXPECT_EQ(stats.items, static_cast<std::uint64_t>(produced));
    EXPECT_TRUE(stats.stopped || produced == c.items);
    for (std::size_t s = 0; s < c.modes.size(); ++s) {
      for (int i = 0; i < c.items; ++i) {
        ASSERT_EQ(obs.hits(s, i), i < produced ? 1 : 0) << "stage " << s << " item " << i;
      }
    }
    check_common(c, obs);
  }
}

TEST_P(property, a_throw_at_a_random_point_leaves_every_item_on_a_prefix_of_the_chain) {
  const std::uint64_t seed = run_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (TASKPIPE_TEST_SEED=" + std::to_string(seed) + " replays it)");
  std::mt19937_64 rng{seed};
  executors both;
  for (int round = 0; round < chains_per_case; ++round) {
    auto& ex = both.for_round(round);
    chain_spec c = chain_spec::random(rng, GetParam());
    if (c.items == 0) {
      continue;
    }
    c.fail_stage = std::uniform_int_distribution<int>{0, static_cast<int>(c.modes.size()) - 1}(rng);
    c.fail_item = std::uniform_int_distribution<int>{0, c.items - 1}(rng);
    SCOPED_TRACE(describe(c) + executors::name(round));
    chain_observer obs{c};
    obs.reset_counts();
    auto p = obs.build(ex, {.strategy = GetParam(), .pinned_width = 2});
    EXPECT_THROW(p.run(), taskpipe::testing::stage_failure);
    const auto fs = static_cast<std::size_t>(c.fail_stage);
    EXPECT_EQ(obs.hits(fs, c.fail_item), 1);
    for (std::size_t s = fs + 1; s < c.modes.size(); ++s) {
      EXPECT_EQ(obs.hits(s, c.fail_item), 0) << "the failed item went on to stage " << s;
    }
    for (int i = 0; i < c.items; ++i) {
      for (std::size_t s = 0; s < c.modes.size(); ++s) {
        ASSERT_LE(obs.hits(s, i), 1) << "stage " << s << " item " << i << " processed twice";
        if (s > 0) {
          ASSERT_LE(obs.hits(s, i), obs.hits(s - 1, i)) << "item " << i << " skipped stage " << s - 1;
        }
      }
    }
    check_common(c, obs);
  }
}

INSTANTIATE_TEST_SUITE_P(pipeline, property,
                         testing::Values(execution_strategy::token, execution_strategy::pinned,
                                         execution_strategy::farm),
                         taskpipe::test::strategy_name);

}  // namespace
