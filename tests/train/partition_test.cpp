// The partitioner on hand-checkable costs.
#include <gtest/gtest.h>

#include "taskpipe/error.hpp"
#include "taskpipe/train/layer_costs.hpp"
#include "taskpipe/train/partition.hpp"

namespace {

namespace train = taskpipe::train;
namespace pp = taskpipe::pp;
using taskpipe::invalid_argument;

using taskpipe::train::layer_cost;
using taskpipe::train::make_partition;
using taskpipe::train::partition_request;

TEST(partition, balances_time_over_two_stages) {
  // Times 1, 1, 1, 3: the best two-stage cut is [0, 3) | [3, 4), time 3 on each rank.
  partition_request r;
  r.layers = {{1, 0, 0, 10, 1}, {1, 0, 0, 10, 1}, {1, 0, 0, 10, 1}, {1, 1, 1, 10, 1}};
  r.stage_rank = {0, 1};
  r.peak_activations = {2, 1};
  const auto p = make_partition(r);
  EXPECT_EQ(p.bounds, (std::vector<std::size_t>{0, 3, 4}));
  EXPECT_EQ(p.rank_time, (std::vector<double>{3, 3}));
  // Memory: 4 x params + peak x activations: rank 0 4·30 + 2·3, rank 1 4·10 + 1·1.
  EXPECT_EQ(p.rank_memory, (std::vector<double>{126, 41}));
  EXPECT_FALSE(p.describe().empty());
}

TEST(partition, a_ranks_memory_adds_the_largest_working_memory_of_its_layers) {
  partition_request r;
  r.layers = {{1, 0, 0, 10, 1, 0, 7}, {1, 0, 0, 10, 1, 0, 2}, {1, 0, 0, 10, 1, 0, 0}, {1, 1, 1, 10, 1, 0, 5}};
  r.stage_rank = {0, 1};
  r.peak_activations = {2, 1};
  // The cut of balances_time_over_two_stages; one pass at a time holds its working memory on top: 126 + 7, 41 + 5.
  EXPECT_EQ(make_partition(r).rank_memory, (std::vector<double>{133, 46}));
  r.layers[1].work_bytes = -1;
  EXPECT_THROW((void)make_partition(r), taskpipe::invalid_argument);
}

TEST(partition, memory_limit_moves_the_cut_and_refuses_when_nothing_fits) {
  partition_request r;
  r.layers = {{1, 0, 0, 100, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {1, 0, 0, 0, 0}};
  r.stage_rank = {0, 1};
  r.peak_activations = {1, 1};
  EXPECT_EQ(make_partition(r).bounds, (std::vector<std::size_t>{0, 2, 4}));
  r.memory_per_worker = 400;  // rank 0 always holds layer 0 (400 bytes): still fits, the time-best cut stays
  EXPECT_EQ(make_partition(r).bounds, (std::vector<std::size_t>{0, 2, 4}));
  r.memory_per_worker = 399;
  try {
    (void)make_partition(r);
    FAIL() << "no cut fits";
  } catch (const taskpipe::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rank 0 400"), std::string::npos) << e.what();
  }
}

TEST(partition, interleaved_placement_sums_a_ranks_stages) {
  partition_request r;
  r.layers.assign(4, layer_cost{1, 1, 1, 0, 0});
  r.stage_rank = {0, 1, 0, 1};
  r.peak_activations = {1, 1};
  const auto p = make_partition(r);
  EXPECT_EQ(p.bounds, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(p.rank_time, (std::vector<double>{6, 6}));
}

TEST(partition, refuses_more_stages_than_layers) {
  partition_request r;
  r.layers.assign(2, layer_cost{});
  r.stage_rank = {0, 1, 2};
  r.peak_activations = {1, 1, 1};
  EXPECT_THROW((void)make_partition(r), taskpipe::invalid_argument);
}

TEST(stage_costs, sums_each_stages_layers_for_the_simulator) {
  const std::vector<train::layer_cost> layers = {
      {.f = 1, .b = 2, .w = 3}, {.f = 10, .b = 20, .w = 30}, {.f = 100, .b = 200, .w = 300}, {.f = 5, .b = 6, .w = 7}};
  const std::vector<std::size_t> bounds = {0, 1, 3, 4};
  const pp::costs c = train::stage_costs(layers, bounds);
  ASSERT_EQ(c.per_stage.size(), 3U);
  EXPECT_DOUBLE_EQ(c.per_stage[0].f, 1);
  EXPECT_DOUBLE_EQ(c.per_stage[1].f, 110);
  EXPECT_DOUBLE_EQ(c.per_stage[1].b, 220);
  EXPECT_DOUBLE_EQ(c.per_stage[1].w, 330);
  EXPECT_DOUBLE_EQ(c.per_stage[2].w, 7);
  EXPECT_DOUBLE_EQ(c.comm, 0);
  const std::vector<std::size_t> empty_stage = {0, 2, 2, 4}, past_the_end = {0, 2, 5};
  EXPECT_THROW(train::stage_costs(layers, empty_stage), invalid_argument);
  EXPECT_THROW(train::stage_costs(layers, past_the_end), invalid_argument);
  EXPECT_THROW(train::stage_costs(layers, std::vector<std::size_t>{0}), invalid_argument);
}

}  // namespace
