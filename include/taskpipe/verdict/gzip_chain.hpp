// taskpipe/verdict/gzip_chain.hpp — the built-in compression chain: read a file in chunks (serial) -> deflate each
// chunk with zlib (parallel) -> write in order, as one valid gzip stream.
//
// Each chunk is deflated on its own (raw deflate, ending on a byte boundary with a sync flush; the last one ends the
// stream), its CRC-32 computed beside it, and the writer joins the CRCs with crc32_combine, as pigz does, so the
// output is one gzip member that `gunzip` restores byte for byte. Chunks do not share a dictionary, which costs a
// little ratio against pigz's default and nothing against `pigz --independent`.
// Errors: a file that cannot be read or written throws taskpipe::error naming the path and the reason; a level out
// of 1..9 or a chunk out of 4 KiB..64 MiB throws taskpipe::invalid_argument. Thread safety: each run opens its own
// files; one run at a time per factory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "taskpipe/verdict/stream_verdict.hpp"

namespace taskpipe::verdict {

struct gzip_chain_options {
  std::string input;                            ///< the file to compress
  std::string output;                           ///< the .gz to write (replaced)
  std::size_t chunk = std::size_t{128} * 1024;  ///< bytes per item, 4096 to 2^26
  int level = 6;                                ///< zlib level, 1 to 9
};

/// A factory for `compare`: every call builds the chain anew (it reopens both files).
chain_factory gzip_chain(const gzip_chain_options& o);

/// Writes `bytes` of generated, compressible text (pseudo-words, deterministic for a seed) to `path`.
void write_generated_text(const std::string& path, std::size_t bytes, std::uint64_t seed = 1);

}  // namespace taskpipe::verdict
