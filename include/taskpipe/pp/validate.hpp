// taskpipe/pp/validate.hpp — proves a schedule complete and deadlock-free, or says exactly why not.
//
// Checks, in order: shape (ranks, stages, placement, every action's stage and micro-batch in range and on the rank
// its stage is placed on); completeness (each (stage, micro-batch) has one F and either one B or one I and one W);
// then a dry run of the per-rank orders in which a rank blocks on each receive and sends are buffered, as the
// in-process transport delivers them. Dependencies: F(s) after F(s-1); I/B(s) after F(s) and I/B(s+1); W after I.
// A dependency that sits later on the same rank is reported as an order error; ranks that all wait on each other
// are reported as a deadlock naming each blocked rank, its step and the action it waits for.
// Throws `taskpipe::pp::schedule_error` (a `taskpipe::error`). Thread safety: a pure function.
#pragma once

#include "taskpipe/error.hpp"
#include "taskpipe/pp/schedule.hpp"

namespace taskpipe::pp {

class schedule_error : public taskpipe::error {
 public:
  using taskpipe::error::error;
};

void validate(const schedule& s);

}  // namespace taskpipe::pp
