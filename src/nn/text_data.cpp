#include "taskpipe/nn/text_data.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <system_error>

#include "taskpipe/error.hpp"

namespace taskpipe::nn {

namespace fs = std::filesystem;

std::vector<fs::path> fortunes_files(const fs::path& directory) {
  std::error_code ec;
  fs::directory_iterator it(directory, ec);
  if (ec) {
    throw invalid_argument("the default corpus " + directory.string() + " cannot be read (" + ec.message() +
                           "): install Debian's `fortunes` package (scripts/install-deps) or pass --data FILE");
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : it) {
    const std::string name = e.path().filename().string();
    const auto ends_with = [&](std::string_view suffix) { return name.ends_with(suffix); };
    if (e.is_symlink() || !e.is_regular_file() || ends_with(".dat") || ends_with(".u8")) {
      continue;
    }
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  if (files.empty()) {
    throw invalid_argument("the default corpus " + directory.string() +
                           " holds no fortune files: install Debian's `fortunes` package or pass --data FILE");
  }
  return files;
}

std::vector<std::uint8_t> read_fortunes(const fs::path& directory) {
  std::vector<std::uint8_t> all;
  for (const fs::path& f : fortunes_files(directory)) {
    const std::vector<std::uint8_t> bytes = read_text_file(f);
    all.insert(all.end(), bytes.begin(), bytes.end());
  }
  return all;
}

std::vector<std::uint8_t> read_text_file(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw invalid_argument("data file " + path.string() + " is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw invalid_argument("data file " + path.string() + " cannot be opened (missing or unreadable)");
  }
  std::vector<std::uint8_t> bytes;
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    bytes.insert(bytes.end(), chunk, chunk + in.gcount());
  }
  if (in.bad()) {
    throw invalid_argument("data file " + path.string() + " could not be read to its end");
  }
  if (bytes.empty()) {
    throw invalid_argument("data file " + path.string() + " is empty");
  }
  return bytes;
}

text_split split(std::span<const std::uint8_t> tokens, double val_fraction) {
  if (!(val_fraction >= 0 && val_fraction < 1)) {
    throw invalid_argument("validation fraction " + std::to_string(val_fraction) + " is out of range: accepted [0, 1)");
  }
  const auto n_val = static_cast<std::size_t>(std::floor(val_fraction * static_cast<double>(tokens.size())));
  return {tokens.first(tokens.size() - n_val), tokens.last(n_val)};
}

std::uint64_t splitmix64::next() noexcept {
  std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

std::uint64_t splitmix64::below(std::uint64_t bound) noexcept {
  // Rejects the top partial block of 2^64 so every residue is equally likely.
  const std::uint64_t limit = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    const std::uint64_t x = next();
    if (x >= limit) {
      return x % bound;
    }
  }
}

batch_loader::batch_loader(std::span<const std::uint8_t> tokens, int batch, int seq, bool shuffle, std::uint64_t seed)
    : m_tokens(tokens), m_batch(batch), m_seq(seq), m_shuffle(shuffle), m_rng(seed) {
  if (batch < 1 || seq < 1) {
    throw invalid_argument("batch " + std::to_string(batch) + " and seq " + std::to_string(seq) + " must be >= 1");
  }
  const std::size_t need =
      shuffle ? static_cast<std::size_t>(seq) + 1 : static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq) + 1;
  if (tokens.size() < need) {
    throw invalid_argument("the data holds " + std::to_string(tokens.size()) + " tokens; batch " +
                           std::to_string(batch) + " x seq " + std::to_string(seq) + " needs at least " +
                           std::to_string(need));
  }
}

void batch_loader::next(std::vector<std::int32_t>& inputs, std::vector<std::int32_t>& targets) {
  const auto b = static_cast<std::size_t>(m_batch);
  const auto t = static_cast<std::size_t>(m_seq);
  inputs.resize(b * t);
  targets.resize(b * t);
  for (std::size_t row = 0; row < b; ++row) {
    const std::size_t start =
        m_shuffle ? static_cast<std::size_t>(m_rng.below(m_tokens.size() - t)) : m_position + row * t;
    for (std::size_t i = 0; i < t; ++i) {
      inputs[row * t + i] = m_tokens[start + i];
      targets[row * t + i] = m_tokens[start + i + 1];
    }
  }
  if (!m_shuffle) {
    m_position += b * t;
    if (m_position + b * t + 1 > m_tokens.size()) {
      m_position = 0;
    }
  }
}

void batch_loader::set_state(const loader_state& s) {
  const std::size_t bt = static_cast<std::size_t>(m_batch) * static_cast<std::size_t>(m_seq);
  if (!m_shuffle && s.position + bt + 1 > m_tokens.size()) {
    throw invalid_argument("data position " + std::to_string(s.position) + " is past the data's " +
                           std::to_string(m_tokens.size()) + " tokens for batch x seq " + std::to_string(bt));
  }
  m_position = s.position;
  m_rng.set_state(s.rng);
}

}  // namespace taskpipe::nn
