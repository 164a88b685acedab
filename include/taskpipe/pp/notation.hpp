// taskpipe/pp/notation.hpp — schedules as text and as torch.distributed.pipelining CSV.
//
// Text form: one line per rank, `rank <r>: <action> <action> ...`. CSV form: one row per rank, one action per cell,
// as torch's `_dump_csv` / `_load_csv` write and read them; empty cells are skipped, and torch's communication and
// sharding actions (SEND_F, RECV_B, UNSHARD, ...) are skipped on import because taskpipe derives transfers from the
// stage placement. Import infers the stage count, the micro-batch count and the placement from the actions; an
// import where one stage's actions sit on two ranks is refused. A `B` that has a `W` for the same stage and
// micro-batch is read as `I` (the Zero Bubble paper's notation) so both spellings import.
// Everything throws `taskpipe::invalid_argument` with the row, the cell and the rule on malformed input.
#pragma once

#include "taskpipe/pp/schedule.hpp"

#include <string>
#include <string_view>

namespace taskpipe::pp {

std::string to_text(const schedule& s);
std::string to_csv(const schedule& s);

schedule from_csv(std::string_view csv);
schedule from_text(std::string_view text);

/// Reads and parses a CSV file; throws `taskpipe::error` when it cannot be read.
schedule load_csv(const std::string& path);
void save_csv(const schedule& s, const std::string& path);

}  // namespace taskpipe::pp
