#include "taskpipe/pp/costs.hpp"

#include "taskpipe/error.hpp"

#include <cmath>
#include <string>

namespace taskpipe::pp {

costs costs::uniform(const uniform_costs& c) {
  return costs{
      {stage_cost{c.f, c.b, c.w, c.activation_bytes, c.w_bytes, c.f_work_bytes, c.b_work_bytes, c.w_work_bytes}},
      c.comm};
}

const stage_cost& costs::at(int stage) const {
  if (per_stage.size() == 1) {
    return per_stage.front();
  }
  if (stage < 0 || stage >= static_cast<int>(per_stage.size())) {
    throw invalid_argument("no cost for stage " + std::to_string(stage) + ": the cost model has " +
                           std::to_string(per_stage.size()) + " stages (give one entry, or one per stage)");
  }
  return per_stage[static_cast<std::size_t>(stage)];
}

double costs::duration(const action& a) const {
  const stage_cost& c = at(a.stage);
  switch (a.kind) {
    case action_kind::forward:
      return c.f;
    case action_kind::backward_input:
      return c.b;
    case action_kind::backward_weight:
      return c.w;
    case action_kind::backward_full:
      return c.b + c.w;
  }
  return 0;
}

namespace {

void check_time(double value, const std::string& what) {
  if (!std::isfinite(value) || value < 0) {
    throw invalid_argument(what + " = " + std::to_string(value) + ": must be a finite number >= 0");
  }
}

}  // namespace

void validate_costs(const costs& c) {
  if (c.per_stage.empty()) {
    throw invalid_argument("cost model without stages: give one entry, or one per stage");
  }
  check_time(c.comm, "comm");
  for (std::size_t s = 0; s < c.per_stage.size(); ++s) {
    const std::string at = " (stage " + std::to_string(s) + ")";
    check_time(c.per_stage[s].f, "f" + at);
    check_time(c.per_stage[s].b, "b" + at);
    check_time(c.per_stage[s].w, "w" + at);
    check_time(c.per_stage[s].activation_bytes, "activation_bytes" + at);
    check_time(c.per_stage[s].w_bytes, "w_bytes" + at);
    check_time(c.per_stage[s].f_work_bytes, "f_work_bytes" + at);
    check_time(c.per_stage[s].b_work_bytes, "b_work_bytes" + at);
    check_time(c.per_stage[s].w_work_bytes, "w_work_bytes" + at);
  }
}

}  // namespace taskpipe::pp
