// taskpipe/pp/notation.hpp — schedules as text and as torch.distributed.pipelining CSV.
//
// Text form: one line per rank, `rank <r>: <action> <action> ...`. CSV form: one row per rank, one action per cell,
// as torch's `_dump_csv` / `_load_csv` write and read them; empty cells are skipped, and torch's communication and
// sharding actions (SEND_F, RECV_B, UNSHARD, ...) are skipped on import because taskpipe derives transfers from the
// stage placement. Import infers the stage count, the micro-batch count and the placement from the actions; an
// import where one stage's actions sit on two ranks is refused. A `B` that has a `W` for the same stage and
// micro-batch is read as `I` (the Zero Bubble paper's notation) so both spellings import. A UTF-8 byte-order mark in
// front of the CSV (spreadsheets write one) is skipped.
// Limits (limits.hpp): at most max_ranks rows, stage numbers below max_stages, micro-batch numbers below
// max_microbatches, max_actions actions, stages x micro-batches at most max_work, and a file of at most
// max_import_bytes; a larger input is refused while it is read, before it is held in memory.
// Everything throws `taskpipe::invalid_argument` with the row, the cell (its bytes shown escaped, see
// detail/quote.hpp) and the rule on malformed input.
#pragma once

#include "taskpipe/pp/schedule.hpp"

#include <string>
#include <string_view>

namespace taskpipe::pp {

std::string to_text(const schedule& s);
std::string to_csv(const schedule& s);

schedule from_csv(std::string_view csv);
schedule from_text(std::string_view text);

/// Reads and parses a CSV file; throws `taskpipe::error` with the system's reason when it cannot be read.
schedule load_csv(const std::string& path);
/// Writes `to_csv(s)`; throws `taskpipe::error` with the system's reason when any step of the write fails.
void save_csv(const schedule& s, const std::string& path);

}  // namespace taskpipe::pp
