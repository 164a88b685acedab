// taskpipe/verdict/chain_workload.hpp — a streaming chain described as data: the JSON workload of
// `taskpipe verdict --workload FILE.json`.
//
// Schema (every field but `stages` optional; unknown fields are refused, so a typo never goes unnoticed):
//   {
//     "name": "parse-enrich-write",          // a label, at most 200 characters
//     "items": 20000,                        // items the source produces: 1 to 10^7 (default 10000)
//     "stages": [                            // 2 to 64 stages: the first is the source, the last the sink
//       {"name": "read",  "mode": "serial_in_order", "cost_us": 4,  "spread": 0.1},
//       {"name": "parse", "mode": "parallel",        "cost_us": 40, "spread": 0.5, "item_bytes": 512},
//       {"name": "write", "mode": "serial_in_order", "cost_us": 6,  "state_bytes": 1048576}
//     ]
//   }
// Per stage: `name` (default "stage N"); `mode` one of serial_in_order, serial_out_of_order, parallel (default
// serial_in_order; the source must be serial_in_order); `cost_us`, the mean CPU time per item in microseconds,
// 0 to 10^6 (default 0); `spread`, the coefficient of variation of that time, 0 to 4 (default 0; costs are drawn
// from a log-normal law with that mean and spread); `state_bytes`, the stage's own state that every item touches,
// 0 to 2^30 (default 0); `item_bytes`, the size of the item the stage produces, 0 to 2^26 (default 64).
// A workload whose serial time (items x the sum of the mean costs) exceeds 600 s is refused.
//
// Errors: `parse_chain_workload` throws `taskpipe::invalid_argument` whose message starts with the origin and names
// the field: "chain.json: stages[2].mode: 'paralel' is not a mode; accepted: serial_in_order, serial_out_of_order,
// parallel". Thread safety: pure functions on values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "taskpipe/pipeline/stage_mode.hpp"

namespace taskpipe::verdict {

struct stage_workload {
  std::string name;
  stage_mode mode = stage_mode::serial_in_order;
  double cost_us = 0;
  double spread = 0;
  std::size_t state_bytes = 0;
  std::size_t item_bytes = 64;
};

struct chain_workload {
  std::string name = "chain";
  std::size_t items = 10000;
  std::vector<stage_workload> stages;
};

inline constexpr std::size_t workload_items_limit = 10'000'000;
inline constexpr std::size_t workload_stages_limit = 64;
inline constexpr double workload_cost_us_limit = 1e6;
inline constexpr double workload_spread_limit = 4.0;
inline constexpr std::size_t workload_state_bytes_limit = std::size_t{1} << 30U;
inline constexpr std::size_t workload_item_bytes_limit = std::size_t{1} << 26U;
inline constexpr double workload_serial_seconds_limit = 600.0;

/// Parses and validates a JSON workload; `origin` (a file name) starts every error message.
chain_workload parse_chain_workload(std::string_view json, std::string_view origin);

/// Checks a workload built in code against the same rules as the JSON one.
void validate(const chain_workload& w, std::string_view origin = "workload");

}  // namespace taskpipe::verdict
