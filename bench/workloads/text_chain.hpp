// The cpu_chain workload of ../shared/BENCHMARKS.md: parse → transform → hash → ordered write over generated text.
// Shared by bench/pipeline.cpp (every strategy and oneTBB run the same four functions) and the serial reference.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace taskpipe::workloads {

/// A deterministic corpus: `lines` lines of 4–12 pseudo-words each, in one buffer.
struct text_corpus {
  std::string text;
  std::vector<std::uint32_t> starts;  // line i is text[starts[i], starts[i+1]-1)

  explicit text_corpus(std::size_t lines) {
    static constexpr std::array<const char*, 16> syllables{"Ka", "ri", "Mo",  "te", "la",  "Zu", "pen", "or",
                                                           "Vi", "sa", "dun", "el", "Qua", "xo", "ni",  "Bre"};
    std::uint64_t state = 0x243f6a8885a308d3ULL;
    auto next = [&state] {
      state ^= state << 13U;
      state ^= state >> 7U;
      state ^= state << 17U;
      return state;
    };
    text.reserve(lines * 48);
    starts.reserve(lines + 1);
    for (std::size_t l = 0; l < lines; ++l) {
      starts.push_back(static_cast<std::uint32_t>(text.size()));
      const auto words = 4 + next() % 9;
      for (std::uint64_t w = 0; w < words; ++w) {
        const auto syl = 1 + next() % 3;
        for (std::uint64_t s = 0; s < syl; ++s) {
          text += syllables[next() % syllables.size()];
        }
        text += w + 1 == words ? '\n' : ' ';
      }
    }
    starts.push_back(static_cast<std::uint32_t>(text.size()));
  }

  [[nodiscard]] std::size_t size() const noexcept { return starts.size() - 1; }
  [[nodiscard]] std::string_view line(std::size_t i) const noexcept {
    return std::string_view{text}.substr(starts[i], starts[i + 1] - starts[i] - 1);
  }
};

/// parse: the line split into words (at most 24).
struct parsed_line {
  std::string_view line;
  std::uint8_t count = 0;
  std::array<std::uint16_t, 48> spans{};  // start, length pairs
};

inline parsed_line parse(std::string_view line) {
  parsed_line p{line};
  std::size_t i = 0;
  while (i < line.size() && p.count < 24) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    const std::size_t b = i;
    while (i < line.size() && line[i] != ' ') {
      ++i;
    }
    if (i > b) {
      p.spans[2U * p.count] = static_cast<std::uint16_t>(b);
      p.spans[2U * p.count + 1] = static_cast<std::uint16_t>(i - b);
      ++p.count;
    }
  }
  return p;
}

/// transform: every word lower-cased and reversed, words in reverse order.
struct transformed_line {
  std::uint16_t size = 0;
  std::array<char, 190> text{};
};

inline transformed_line transform(const parsed_line& p) {
  transformed_line t;
  for (int w = p.count - 1; w >= 0; --w) {
    const auto b = p.spans[2U * static_cast<unsigned>(w)];
    const auto n = p.spans[2U * static_cast<unsigned>(w) + 1];
    for (int k = n - 1; k >= 0 && t.size < t.text.size(); --k) {
      char c = p.line[static_cast<std::size_t>(b + k)];
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
      t.text[t.size++] = c;
    }
    if (t.size < t.text.size()) {
      t.text[t.size++] = ' ';
    }
  }
  return t;
}

/// hash: 64-bit FNV-1a.
inline std::uint64_t hash(const transformed_line& t) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < t.size; ++i) {
    h ^= static_cast<unsigned char>(t.text[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// ordered write: an order-sensitive checksum of the hashes, plus the hashes appended to an output buffer.
struct ordered_writer {
  std::uint64_t checksum = 0;
  std::vector<std::uint64_t> out;
  void write(std::uint64_t h) {
    checksum = checksum * 1000003ULL + h;
    out.push_back(h);
  }
};

inline std::uint64_t serial_checksum(const text_corpus& c) {
  ordered_writer w;
  for (std::size_t i = 0; i < c.size(); ++i) {
    w.write(hash(transform(parse(c.line(i)))));
  }
  return w.checksum;
}

}  // namespace taskpipe::workloads
