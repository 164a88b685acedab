// Fuzz target for the --costs parser (pp::parse_cost_spec) and the per-rank to per-stage rule (costs_for_stages).
// Built with libFuzzer by scripts/fuzz and, in the normal suite, with replay_main.cpp over the corpus and every
// input that ever crashed it.
//
// Properties: any bytes either parse or are refused with taskpipe::invalid_argument; a parsed model passes
// validate_costs with every value inside its documented range; splitting it over a placement keeps it valid and
// keeps each rank's total (the rank's share is only divided among its stages).
#include <taskpipe/pp/cost_spec.hpp>
#include <taskpipe/pp/limits.hpp>
#include <taskpipe/pp/schedule.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace pp = taskpipe::pp;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_costs: %s\n", what);
  std::abort();
}

bool in_range(double v, double max) { return std::isfinite(v) && v >= 0 && v <= max; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands bytes; the parser reads chars.
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pp::costs c;
  try {
    c = pp::parse_cost_spec(text);
  } catch (const taskpipe::invalid_argument&) {
    return 0;
  }
  pp::validate_costs(c);  // throws, and so aborts the fuzzer, if the parser let a bad model through
  if (c.per_stage.empty() || c.per_stage.size() > static_cast<std::size_t>(pp::max_stages) ||
      !in_range(c.comm, pp::max_cost_time)) {
    broken("a parsed model is outside the documented limits");
  }
  for (const auto& s : c.per_stage) {
    if (!in_range(s.f, pp::max_cost_time) || !in_range(s.b, pp::max_cost_time) || !in_range(s.w, pp::max_cost_time) ||
        !in_range(s.activation_bytes, pp::max_cost_bytes) || !in_range(s.w_bytes, pp::max_cost_bytes) ||
        !in_range(s.f_work_bytes, pp::max_cost_bytes) || !in_range(s.b_work_bytes, pp::max_cost_bytes) ||
        !in_range(s.w_work_bytes, pp::max_cost_bytes)) {
      broken("a parsed value is outside its documented range");
    }
  }
  // Split it as the CLI does for interleaved, with as many ranks as the list has entries (or 3 for one entry).
  const int ranks = c.per_stage.size() == 1 ? 3 : static_cast<int>(c.per_stage.size());
  const std::vector<int> placement = pp::looped_placement(ranks, 2);
  const pp::costs split = pp::costs_for_stages(c, placement, ranks);
  pp::validate_costs(split);
  for (int r = 0; r < ranks; ++r) {
    const double given = c.per_stage[c.per_stage.size() == 1 ? 0 : static_cast<std::size_t>(r)].f;
    double total = 0;
    for (std::size_t s = 0; s < placement.size(); ++s) {
      if (placement[s] == r) {
        total += split.per_stage[s].f;
      }
    }
    if (std::abs(total - given) > 1e-9 * std::max(1.0, given)) {
      broken("splitting a rank's share over its stages changed the rank's total");
    }
  }
  return 0;
}
