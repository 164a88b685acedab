// taskpipe/pp/detail/zero_bubble.hpp — the generators of the split-backward kinds (zb-h1, zb-h2, zb-v, zb-auto,
// dualpipe-v), called by make_schedule once the options are checked.
#pragma once

#include "taskpipe/pp/generators.hpp"

namespace taskpipe::pp::detail {

schedule make_zero_bubble(kind k, const schedule_options& options);

}  // namespace taskpipe::pp::detail
