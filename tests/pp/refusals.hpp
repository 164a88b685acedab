// pp/refusals.hpp — the message with which a pp call refuses its input ("" when it accepts it), one helper per
// checked entry point, shared by the pp tests that check the wording of a refusal.
#pragma once

#include <string>

#include "taskpipe/error.hpp"
#include "taskpipe/pp/cost_spec.hpp"
#include "taskpipe/pp/generators.hpp"
#include "taskpipe/pp/limits.hpp"
#include "taskpipe/pp/notation.hpp"

namespace taskpipe::test {

/// What `call` throws as taskpipe::invalid_argument, or "" when it returns.
template <class Call>
std::string refusal_of(Call&& call) {
  try {
    call();
  } catch (const invalid_argument& e) {
    return e.what();
  }
  return "";
}

inline std::string schedule_refusal(pp::kind k, const pp::schedule_options& o) {
  return refusal_of([&] { (void)pp::make_schedule(k, o); });
}

inline std::string limits_refusal(pp::kind k, const pp::schedule_options& o) {
  return refusal_of([&] { pp::check_limits(k, o); });
}

inline std::string csv_refusal(const std::string& csv) {
  return refusal_of([&] { (void)pp::from_csv(csv); });
}

inline std::string cost_spec_refusal(const std::string& spec) {
  return refusal_of([&] { (void)pp::parse_cost_spec(spec); });
}

}  // namespace taskpipe::test
