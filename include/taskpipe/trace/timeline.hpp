// taskpipe/trace/timeline.hpp — a timeline of named slices on tracks, what every trace writer draws.
//
// Contract: a plain value; times are in the producer's units, `microseconds_per_unit` converts them for writers that
// need wall-clock (Chrome trace). Thread safety: a value type.
#pragma once

#include "taskpipe/error.hpp"

#include <string>
#include <utility>
#include <vector>

namespace taskpipe::trace {

struct event {
  int track = 0;
  std::string name;      ///< the slice's label, e.g. "1F3"
  std::string label;     ///< a short form for tight spaces (SVG boxes, the text view), e.g. "F3"; name when empty
  std::string category;  ///< colours the slice, e.g. "F"
  double start = 0;
  double duration = 0;
  std::vector<std::pair<std::string, long long>> args;  ///< shown on selection, e.g. {"microbatch", 3}
};

struct timeline {
  std::vector<std::string> tracks;  ///< track index -> name, e.g. "rank 0"
  std::vector<event> events;
  double microseconds_per_unit = 1;

  double end() const noexcept;
};

}  // namespace taskpipe::trace
