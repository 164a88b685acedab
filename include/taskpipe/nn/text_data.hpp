// taskpipe/nn/text_data.hpp — byte-level text data: the corpus, its validation split, and the batches of a step.
//
// Contract: tokens are bytes (0..255). The default corpus is the text of Debian's `fortunes` package: every regular
// file directly in /usr/share/games/fortunes/ whose name does not end in ".dat" (the strfile indexes) or ".u8"
// (symlinks to the plain files; symlinks are skipped whatever their name), sorted by name in byte order and
// concatenated as they are. Subdirectories (e.g. `off/` from fortunes-off) are not read.
// `split` keeps the last floor(F * n) tokens for validation. A `batch_loader` cuts B rows of T tokens from a token
// sequence of at least B*T+1 tokens. Sequentially (llm.c's order), step s reads the B*T+1 tokens starting at
// position p_s, with p_0 = 0 and p_{s+1} = p_s + B*T, except that it restarts at 0 when fewer than B*T+1 tokens
// remain from there; row b is tokens [b*T, b*T+T) of them, its targets the same shifted by one. With shuffle, each
// row starts at a position drawn uniformly from [0, n-T-1] by a splitmix64 generator seeded by `seed`, the same on
// every platform. The loader's state (position, generator state) can be read and restored, so a resumed run reads
// what an uninterrupted one would. Thread safety: a value type. Throws taskpipe::invalid_argument (a missing,
// unreadable or empty file, a sequence too short for one batch, a bad fraction).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace taskpipe::nn {

inline constexpr const char* fortunes_directory = "/usr/share/games/fortunes";

/// The files of the default corpus in their reading order (see the contract).
std::vector<std::filesystem::path> fortunes_files(const std::filesystem::path& directory = fortunes_directory);

/// The default corpus: fortunes_files() concatenated. Throws when the package is not installed.
std::vector<std::uint8_t> read_fortunes(const std::filesystem::path& directory = fortunes_directory);

/// A whole file's bytes; throws naming the file when it is missing, unreadable or empty.
std::vector<std::uint8_t> read_text_file(const std::filesystem::path& path);

struct text_split {
  std::span<const std::uint8_t> train;
  std::span<const std::uint8_t> validation;
};

/// The last floor(val_fraction * n) tokens are the validation split; val_fraction in [0, 1).
text_split split(std::span<const std::uint8_t> tokens, double val_fraction);

/// splitmix64: a portable generator with one 64-bit word of state.
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed = 0) noexcept : m_state(seed) {}
  std::uint64_t next() noexcept;
  /// Uniform in [0, bound) without modulo bias (bound > 0).
  std::uint64_t below(std::uint64_t bound) noexcept;
  std::uint64_t state() const noexcept { return m_state; }
  void set_state(std::uint64_t s) noexcept { m_state = s; }

 private:
  std::uint64_t m_state;
};

struct loader_state {
  std::uint64_t position = 0;  ///< sequential: where the next batch starts
  std::uint64_t rng = 0;       ///< shuffled: the generator's state
};

class batch_loader {
 public:
  /// `tokens` must outlive the loader and hold at least batch*seq+1 tokens (sequential) or seq+1 (shuffled).
  batch_loader(std::span<const std::uint8_t> tokens, int batch, int seq, bool shuffle = false, std::uint64_t seed = 0);

  /// Fills `inputs` and `targets` (resized to batch*seq) with the next batch and advances.
  void next(std::vector<std::int32_t>& inputs, std::vector<std::int32_t>& targets);

  loader_state state() const noexcept { return {m_position, m_rng.state()}; }
  /// Restores a state read from state(); throws when the position is past the data.
  void set_state(const loader_state& s);
  int batch() const noexcept { return m_batch; }
  int seq() const noexcept { return m_seq; }

 private:
  std::span<const std::uint8_t> m_tokens;
  int m_batch;
  int m_seq;
  bool m_shuffle;
  std::uint64_t m_position = 0;
  splitmix64 m_rng;
};

}  // namespace taskpipe::nn
