#include "taskpipe/verdict/text_chains.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "taskpipe/error.hpp"

namespace taskpipe::verdict {
namespace {

std::shared_ptr<const std::vector<std::string>> make_corpus(std::size_t lines) {
  static constexpr std::array<const char*, 20> words{"the",    "pipeline", "of",     "task",  "stage", "and",   "a",
                                                     "token",  "worker",   "queue",  "steal", "item",  "order", "farm",
                                                     "pinned", "cache",    "thread", "in",    "to",    "is"};
  auto out = std::make_shared<std::vector<std::string>>();
  out->reserve(lines);
  std::uint64_t s = 0x853c49e6748fea9bULL;
  for (std::size_t l = 0; l < lines; ++l) {
    std::string line;
    const int n = 8 + static_cast<int>(s % 17);
    for (int w = 0; w < n; ++w) {
      s ^= s << 13U;
      s ^= s >> 7U;
      s ^= s << 17U;
      const auto r = s % 1000;  // Zipf-like: the first words far more often
      line += words[(r * r / 1000) * words.size() / 1000];
      line += std::to_string(s % 50);
      line += ' ';
    }
    out->push_back(std::move(line));
  }
  return out;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> w;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    const std::size_t b = i;
    while (i < line.size() && line[i] != ' ') {
      ++i;
    }
    if (i > b) {
      w.push_back(line.substr(b, i - b));
    }
  }
  return w;
}

std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A source over the shared corpus; each chain gets its own cursor.
auto corpus_source(const std::shared_ptr<const std::vector<std::string>>& corpus) {
  return [corpus, next = std::size_t{0}]() mutable -> std::optional<std::string_view> {
    if (next == corpus->size()) {
      return std::nullopt;
    }
    return std::string_view{(*corpus)[next++]};
  };
}

}  // namespace

chain_factory word_frequency_chain(std::size_t lines) {
  auto corpus = make_corpus(lines);
  // The expected total, computed once serially, checks every run.
  std::size_t expected = 0;
  for (const auto& l : *corpus) {
    expected += split(l).size();
  }
  return [corpus, expected](executor& ex, const pipeline_options& o) {
    auto merged = std::make_shared<std::map<std::string, std::size_t>>();
    auto total = std::make_shared<std::size_t>(0);
    auto left = std::make_shared<std::size_t>(corpus->size());
    return pipeline{ex, o}
        .source(corpus_source(corpus), "read")
        .stage(
            taskpipe::parallel, [](std::string_view l) { return split(l); }, "tokenize")
        .stage(
            taskpipe::parallel,
            [](const std::vector<std::string_view>& ws) {
              std::unordered_map<std::string_view, std::size_t> counts;
              for (const auto w : ws) {
                ++counts[w];
              }
              return counts;
            },
            "count")
        .sink(
            taskpipe::serial_in_order,
            [merged, total, left, expected](const std::unordered_map<std::string_view, std::size_t>& counts) {
              for (const auto& [w, n] : counts) {
                (*merged)[std::string(w)] += n;
                *total += n;
              }
              if (--*left == 0 && *total != expected) {
                throw error("word frequency chain: counted " + std::to_string(*total) + " words, expected " +
                            std::to_string(expected));
              }
            },
            "merge");
  };
}

chain_factory stateful_chain(std::size_t lines, std::size_t table_bytes) {
  if (table_bytes < 4096 || table_bytes > (std::size_t{1} << 30U)) {
    throw invalid_argument("stateful chain: table_bytes = " + std::to_string(table_bytes) +
                           " is out of range; accepted: 4096 to 2^30");
  }
  auto corpus = make_corpus(lines);
  // The sketch's answers depend on the order of the lines; the serial answer checks every run.
  const auto sketch = [](std::vector<std::uint64_t>& t, const std::vector<std::uint64_t>& hashes) {
    // Each word bumps eight slots spread over the table and reads the least of them (a count-min sketch).
    std::uint64_t seen = 0;
    for (const auto h : hashes) {
      std::uint64_t least = ~std::uint64_t{0};
      for (unsigned k = 0; k < 8; ++k) {
        auto& slot = t[((h >> (k * 8U)) * 0x9e3779b97f4a7c15ULL + k) % t.size()];
        ++slot;
        least = std::min(least, slot);
      }
      seen += least;
    }
    return seen;
  };
  const auto hash_line = [](std::string_view l) {
    std::vector<std::uint64_t> hashes;
    for (const auto w : split(l)) {
      hashes.push_back(fnv1a(w));
    }
    return hashes;
  };
  std::uint64_t expected = 0;
  {
    std::vector<std::uint64_t> t(table_bytes / sizeof(std::uint64_t));
    for (const auto& l : *corpus) {
      expected += sketch(t, hash_line(l));
    }
  }
  return [corpus, table_bytes, sketch, hash_line, expected](executor& ex, const pipeline_options& o) {
    auto table = std::make_shared<std::vector<std::uint64_t>>(table_bytes / sizeof(std::uint64_t));
    auto sum = std::make_shared<std::uint64_t>(0);
    auto left = std::make_shared<std::size_t>(corpus->size());
    return pipeline{ex, o}
        .source(corpus_source(corpus), "read")
        .stage(taskpipe::parallel, hash_line, "hash")
        .stage(
            taskpipe::serial_in_order,
            [table, sketch](const std::vector<std::uint64_t>& hashes) { return sketch(*table, hashes); }, "sketch")
        .sink(
            taskpipe::serial_in_order,
            [sum, left, expected](std::uint64_t seen) {
              *sum += seen;
              if (--*left == 0 && *sum != expected) {
                throw error("stateful chain: the sketch summed to " + std::to_string(*sum) + ", expected " +
                            std::to_string(expected));
              }
            },
            "sum");
  };
}

}  // namespace taskpipe::verdict
