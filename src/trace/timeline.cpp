#include "taskpipe/trace/timeline.hpp"

#include <algorithm>

namespace taskpipe::trace {

double timeline::end() const noexcept {
  double out = 0;
  for (const auto& e : events) {
    out = std::max(out, e.start + e.duration);
  }
  return out;
}

}  // namespace taskpipe::trace
