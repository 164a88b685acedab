// taskpipe/pp/limits.hpp — the sizes the schedule tools accept, and the check that refuses larger ones up front.
//
// Why limits: a schedule holds ranks x chunks x microbatches x 3 actions, the zero-bubble list scheduler and zb-auto's
// search take time that grows faster than that, and the trace writers draw every action; an absurd size (2^30
// chunks, 10^8 micro-batches) would otherwise overflow an int, exhaust memory or run for hours. The limits sit far
// above any pipeline in use (Megatron and the Zero Bubble paper stop at a few dozen ranks and a few hundred
// micro-batches) and keep the largest schedule within seconds. The CLI documents them in `taskpipe schedule --help`;
// the CSV importer (notation.hpp) refuses files past them.
//
// Contract: `check_limits` throws `taskpipe::invalid_argument` naming the option, its value and the range; it checks
// sizes only (generators.hpp states the rules each kind adds). Thread safety: a pure function.
#pragma once

#include "taskpipe/pp/generators.hpp"

#include <cstddef>

namespace taskpipe::pp {

inline constexpr int max_ranks = 256;
inline constexpr int max_chunks = 32;    ///< stages per rank (interleaved)
inline constexpr int max_stages = 1024;  ///< model stages: ranks x chunks
inline constexpr int max_microbatches = 4096;
inline constexpr long long max_work = 131072;  ///< stages x microbatches, each with its F, I and W
inline constexpr long long max_actions = 3 * max_work;
inline constexpr int max_layers = 1 << 20;
inline constexpr int max_memory_limit = 131072;                          ///< zb-auto's activations per rank
inline constexpr std::size_t max_import_bytes = std::size_t{64} << 20U;  ///< a CSV file to import

/// Model stages of kind `k` with these options: ranks x chunks for interleaved, 2 x ranks for zb-v, else ranks.
long long stage_count(kind k, const schedule_options& options) noexcept;

/// Refuses ranks outside [1, max_ranks], microbatches outside [1, max_microbatches], chunks (interleaved) outside
/// [2, max_chunks], layers outside [0, max_layers], memory_limit outside [0, max_memory_limit], more than max_stages
/// stages or more than max_work stages x microbatches.
void check_limits(kind k, const schedule_options& options);

}  // namespace taskpipe::pp
