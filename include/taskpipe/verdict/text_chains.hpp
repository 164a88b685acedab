// taskpipe/verdict/text_chains.hpp — the built-in chains over generated text that do real work (no sleeps):
//
// - word_frequency_chain: read a line (serial) -> split into words (parallel) -> count the line's words (parallel)
//   -> merge the counts (serial, in order): the chain of examples/word_frequencies.cpp.
// - stateful_chain: read a line (serial) -> hash its words (parallel) -> look each hash up in a large table and
//   update it (serial: the table is the stage's state, `table_bytes` of it) -> sum in order (serial). The table is
//   larger than a core's L1 and smaller than its L2, so where the serial stage runs decides whether its state is hot:
//   the case for the pinned strategy, which keeps the stage on one thread.
// Both check their result: every run must give the same counts, or the sink throws taskpipe::error.
// Thread safety: each factory call builds an independent chain over a shared, read-only corpus.
#pragma once

#include <cstddef>

#include "taskpipe/verdict/stream_verdict.hpp"

namespace taskpipe::verdict {

chain_factory word_frequency_chain(std::size_t lines);

chain_factory stateful_chain(std::size_t lines, std::size_t table_bytes = std::size_t{1} << 20U);

}  // namespace taskpipe::verdict
