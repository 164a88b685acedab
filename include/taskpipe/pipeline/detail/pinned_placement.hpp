// detail/pinned_placement.hpp — where the `pinned` strategy puts a chain's stages on a fixed budget of threads.
//
// The chain is cut into segments of consecutive stages; each segment has threads of its own and each of those
// threads runs every stage of the segment on an item before handing it on, so a stage's state stays on its
// segment's threads. A segment of more than one thread holds parallel stages only; the source's segment has one
// thread. The cut minimises the bottleneck, the largest (cost of a segment per item) / (its threads), under the budget:
// - a budget of at least one thread per stage gives each stage a segment of its own, and the threads left over go,
//   one at a time, to the parallel stage with the largest cost per thread;
// - a smaller budget is met by fusing: the least bottleneck B for which a greedy left-to-right cut (a segment grows
//   while its cost stays within B on one thread, or while it and the next stage are parallel) needs at most the
//   budget, found by bisection; leftover threads go to parallel segments as above.
// A parallel segment takes at most `width_cap` threads (0: no cap but the budget).
//
// Helping: a budget smaller than the chain's runs (maximal runs of serial stages and of parallel stages) makes the cut
// fuse, and a heavy parallel stage fused with a serial neighbour runs on one thread (serial → parallel → serial on 2
// threads runs the parallel stage on one). So with such a budget a second placement is also considered: each serial
// run on a thread of its own, each parallel run on no thread of its own (`threads == 0`, a helped segment), run by
// every thread whenever that thread's own input is empty; threads left over go to the helped segments, where they
// only help. Its bottleneck is max(heaviest serial run, total cost / budget); it is taken when that is under 0.9 × the
// fused placement's (the margin pays for the helping's extra hand-offs), and only without a width cap below the budget.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace taskpipe::detail {

struct pinned_segment {
  std::size_t first = 0;    // first stage
  std::size_t last = 0;     // last stage (inclusive)
  std::size_t threads = 1;  // threads of its own running the segment (0 for a helped segment without any)
  double cost = 0;          // sum of the stages' costs per item
  bool helped = false;      // parallel stages every thread runs when its own input is empty (its threads only help)
};

/// `cost[i]` is stage i's cost per item (any unit, ≥ 0), `serial[i]` whether it is serial (serial[0] must be true).
/// Returns the segments in chain order; their threads sum to at most max(budget, 1).
std::vector<pinned_segment> place_pinned(const std::vector<double>& cost, const std::vector<bool>& serial,
                                         std::size_t budget, std::size_t width_cap);

/// "source+parse: thread 0 | hash: threads 1-2 | write: thread 3" for the named stages; a helped segment reads
/// "hash: threads 0-3 helping" (every thread runs it).
std::string describe_placement(const std::vector<pinned_segment>& segments, const std::vector<std::string>& names);

}  // namespace taskpipe::detail
