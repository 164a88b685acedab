#include "taskpipe/verdict/chain_workload.hpp"

#include <gtest/gtest.h>

#include <string>

#include "taskpipe/error.hpp"

namespace v = taskpipe::verdict;

namespace {

std::string refusal(const std::string& json) {
  try {
    (void)v::parse_chain_workload(json, "w.json");
  } catch (const taskpipe::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(chain_workload, reads_every_field_and_fills_the_defaults) {
  const auto w = v::parse_chain_workload(R"({"name": "etl", "items": 500, "stages": [
      {"name": "read", "cost_us": 2},
      {"mode": "parallel", "cost_us": 30.5, "spread": 0.4, "item_bytes": 512},
      {"name": "write", "mode": "serial_out_of_order", "state_bytes": 4096}]})",
                                         "w.json");
  EXPECT_EQ(w.name, "etl");
  EXPECT_EQ(w.items, 500U);
  ASSERT_EQ(w.stages.size(), 3U);
  EXPECT_EQ(w.stages[0].name, "read");
  EXPECT_EQ(w.stages[0].mode, taskpipe::serial_in_order);
  EXPECT_DOUBLE_EQ(w.stages[0].cost_us, 2.0);
  EXPECT_EQ(w.stages[1].name, "stage 1");
  EXPECT_EQ(w.stages[1].mode, taskpipe::parallel);
  EXPECT_DOUBLE_EQ(w.stages[1].spread, 0.4);
  EXPECT_EQ(w.stages[1].item_bytes, 512U);
  EXPECT_EQ(w.stages[2].mode, taskpipe::serial_out_of_order);
  EXPECT_EQ(w.stages[2].state_bytes, 4096U);
  EXPECT_EQ(w.stages[2].item_bytes, 64U);
}

TEST(chain_workload, names_the_field_in_every_refusal) {
  const std::string two = R"({"cost_us": 1}, {"cost_us": 1})";
  const struct {
    std::string json;
    std::string expected;
  } cases[] = {
      {"{", "w.json: not valid JSON: parse error"},
      {"[1]", "w.json: the document: must be a JSON object"},
      {R"({"items": 3})", "w.json: stages: is missing"},
      {R"({"stages": [{"cost_us": 1}]})", "w.json: stages: has 1 stages; accepted: 2"},
      {R"({"stages": [)" + two + R"(], "itmes": 3})", "w.json: itmes: unknown field; accepted: items, name, stages"},
      {R"({"stages": [)" + two + R"(], "items": 0})", "w.json: items: 0 is out of range; accepted: 1 to 10000000"},
      {R"({"stages": [)" + two + R"(], "items": -4})", "w.json: items: -4 is out of range"},
      {R"({"stages": [)" + two + R"(], "items": 2.5})", "w.json: items: must be a whole number, not 2.5"},
      {R"({"stages": [{"cost_us": 1}, {"mode": "paralel"}]})",
       "w.json: stages[1].mode: \"paralel\" is not a mode; accepted: serial_in_order, serial_out_of_order, parallel"},
      {R"({"stages": [{"mode": "parallel"}, {}]})", "w.json: stages[0].mode: the first stage is the source"},
      {R"({"stages": [{"cost_us": -1}, {}]})", "w.json: stages[0].cost_us: -1.0 is out of range; accepted: 0.0 to"},
      {R"({"stages": [{"cost_us": "5"}, {}]})", "w.json: stages[0].cost_us: must be a number, not string"},
      {R"({"stages": [{}, {"spread": 5}]})", "w.json: stages[1].spread: 5.0 is out of range"},
      {R"({"stages": [{}, {"cots_us": 5}]})", "w.json: stages[1].cots_us: unknown field; accepted: cost_us"},
      {R"({"stages": [{}, 7]})", "w.json: stages[1]: must be an object, not number"},
      {R"({"stages": [{}, {"state_bytes": 2000000000}]})", "w.json: stages[1].state_bytes: 2000000000 is out of range"},
      {R"({"items": 10000000, "stages": [{"cost_us": 100}, {}]})", "w.json: items: 10000000 items of 100.0 us each"},
  };
  for (const auto& c : cases) {
    const auto got = refusal(c.json);
    EXPECT_EQ(got.rfind(c.expected, 0), 0U) << "input: " << c.json << "\n got: " << got;
  }
}
