// taskpipe/pp/cost_spec.hpp — the text form of a cost model (the CLI's --costs), and the one rule that turns costs
// given per rank into costs per model stage.
//
// Spec: comma-separated `key=value` items, keys f, b, w (times of F, I and W), act (activation bytes per
// micro-batch, held until I), wact (what it holds from I until W: the part of act W needs, or more), fwork, bwork and
// wwork (the working memory of an F, I and W: what each holds in addition while it runs, see costs.hpp) and comm (the
// time of every transfer between two ranks). All but comm take one value or a ':'-separated list (one per rank or
// one per stage: see `costs_for_stages`); comm takes one value. Times are in [0, max_cost_time], sizes in [0,
// max_cost_bytes]; keys left out keep their defaults (f = b = w = 1, the sizes and comm 0); an empty item (a trailing
// comma) is skipped. Example: "f=1:2:1:1,b=2,comm=0.1".
//
// Stage rule: one entry applies to every rank; a list as long as the ranks gives each rank's share of the model;
// a list as long as the model's stages is taken as it is (also when there are as many stages as ranks). A
// rank's share is split evenly over the stages it holds,
// so a rank with v chunks gives each of them 1/v of its times and sizes. Generated and imported schedules
// follow the same rule, so a schedule exported with --csv and imported again has the same makespan.
//
// Contract: pure functions; throw `taskpipe::invalid_argument` naming the item, the (quoted) value and the rule.
#pragma once

#include "taskpipe/pp/costs.hpp"

#include <span>
#include <string_view>

namespace taskpipe::pp {

inline constexpr double max_cost_time = 1e9;    ///< f, b, w, comm
inline constexpr double max_cost_bytes = 1e15;  ///< act, wact, fwork, bwork, wwork

/// Parses a spec; the result has one entry or one per listed value and passes `validate_costs`.
costs parse_cost_spec(std::string_view spec);

/// The costs of each model stage of a schedule on `ranks` ranks whose stage s lives on `stage_rank[s]`, from costs
/// given per rank or per stage (the rule above). Returns `c` unchanged when every rank holds one stage.
costs costs_for_stages(const costs& c, std::span<const int> stage_rank, int ranks);

}  // namespace taskpipe::pp
