// The square workload of ../shared/BENCHMARKS.md, our own rewrite of the shape of oneTBB's squaring example: a text
// file of decimal numbers, one a line, is read in chunks (serially, in order), each chunk's numbers are squared into
// an output chunk (in parallel), and the output chunks are written to a text file in input order (serially).
// Shared by bench/pipeline.cpp (every strategy and oneTBB run these same functions, so only the pipeline machinery
// differs) and the sequential oracle, `square_text` over the whole input.
//
// Contract: numbers are unsigned decimals below 2^32 (their squares fit in 64 bits), each followed by '\n'.
// `chunk_reader::next` returns chunks that end on a whole number; a line longer than the chunk size throws
// std::runtime_error naming it. Not thread-safe: one reader per stream, used by one thread at a time.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace taskpipe::workloads {

/// `count` pseudo-random numbers below 10^6 (a fixed xorshift sequence), one a line.
inline std::string square_input(std::size_t count) {
  std::string text;
  text.reserve(count * 8);
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  char buf[24];
  for (std::size_t i = 0; i < count; ++i) {
    state ^= state << 13U;
    state ^= state >> 7U;
    state ^= state << 17U;
    const auto r = std::to_chars(buf, buf + sizeof buf, state % 1'000'000U);
    text.append(buf, r.ptr);
    text += '\n';
  }
  return text;
}

/// Each line of `in` (a number and '\n') becomes its square and '\n'. Throws std::runtime_error on a line that is not
/// a number below 2^32.
inline std::string square_text(std::string_view in) {
  std::string out;
  out.resize(2 * in.size() + 1);  // a square has at most twice its root's digits; each newline stays one byte
  char* w = out.data();
  const char* p = in.data();
  const char* const end = p + in.size();
  while (p != end) {
    std::uint32_t x = 0;
    const auto r = std::from_chars(p, end, x);
    if (r.ec != std::errc{} || r.ptr == end || *r.ptr != '\n') {
      throw std::runtime_error("square: not a number below 2^32 followed by a newline at byte " +
                               std::to_string(p - in.data()) + " of a chunk");
    }
    const std::uint64_t sq = std::uint64_t{x} * x;
    w = std::to_chars(w, out.data() + out.size(), sq).ptr;
    *w++ = '\n';
    p = r.ptr + 1;
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
  return out;
}

/// Reads a stream in chunks of at most `chunk_bytes`, each cut after its last whole line; the part of a line read
/// past the cut starts the next chunk (as the example backs up to the last whole number).
class chunk_reader {
 public:
  chunk_reader(std::FILE* in, std::size_t chunk_bytes) : in_(in), chunk_(chunk_bytes) {}

  /// The next chunk, or nullopt at the end of the stream.
  std::optional<std::string> next() {
    std::string c;
    c.resize(chunk_);
    std::size_t have = carry_.size();
    carry_.copy(c.data(), have);
    carry_.clear();
    if (!eof_) {
      have += std::fread(c.data() + have, 1, chunk_ - have, in_);
      eof_ = have < chunk_;
    }
    if (have == 0) {
      return std::nullopt;
    }
    c.resize(have);
    if (!eof_) {
      const auto cut = c.rfind('\n');
      if (cut == std::string::npos) {
        throw std::runtime_error("square: a line longer than the chunk size (" + std::to_string(chunk_) + " bytes)");
      }
      carry_.assign(c, cut + 1);
      c.resize(cut + 1);
    }
    return c;
  }

 private:
  std::FILE* in_;
  std::size_t chunk_;
  std::string carry_;
  bool eof_ = false;
};

}  // namespace taskpipe::workloads
