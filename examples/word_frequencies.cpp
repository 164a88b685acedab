// Word frequencies over a generated corpus, run as a pipeline with each of the three strategies; prints the counts'
// agreement and the statistics of each run side by side.
//
//   read (source, serial) → tokenize (parallel) → count per line (parallel) → merge (serial, in order)
//
// Usage: word_frequencies [lines]   (default 200000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "taskpipe/taskpipe.hpp"

namespace {

// A deterministic corpus with a skewed (Zipf-like) word distribution, so the top words are stable.
std::vector<std::string> make_corpus(std::size_t lines) {
  static constexpr const char* words[] = {"the",    "pipeline", "of",     "task",  "stage", "and",   "a",
                                          "token",  "worker",   "queue",  "steal", "item",  "order", "farm",
                                          "pinned", "cache",    "thread", "in",    "to",    "is"};
  constexpr std::size_t n_words = sizeof words / sizeof words[0];
  std::vector<std::string> out;
  out.reserve(lines);
  std::uint64_t s = 42;
  for (std::size_t l = 0; l < lines; ++l) {
    std::string line;
    for (int w = 0; w < 12; ++w) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      const double u = static_cast<double>(s >> 11U) / 9007199254740992.0;  // [0, 1)
      const auto k = std::min(n_words - 1, static_cast<std::size_t>(u * u * u * static_cast<double>(n_words)));
      line += words[k];
      line += w == 0 ? "," : " ";
    }
    out.push_back(std::move(line));
  }
  return out;
}

std::vector<std::string_view> tokenize(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == ',')) {
      ++i;
    }
    const std::size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != ',') {
      ++i;
    }
    if (i > b) {
      out.push_back(line.substr(b, i - b));
    }
  }
  return out;
}

using counts = std::unordered_map<std::string_view, std::size_t>;

std::pair<counts, taskpipe::pipeline_stats> count_words(taskpipe::executor& ex, const std::vector<std::string>& corpus,
                                                        taskpipe::execution_strategy strategy) {
  counts total;
  std::size_t next = 0;
  auto stats = taskpipe::pipeline{ex, {.max_in_flight = 32, .strategy = strategy}}
                   .source(
                       [&]() -> std::optional<std::string_view> {
                         if (next == corpus.size()) {
                           return std::nullopt;
                         }
                         return corpus[next++];
                       },
                       "read")
                   .stage(taskpipe::parallel, tokenize, "tokenize")
                   .stage(
                       taskpipe::parallel,
                       [](const std::vector<std::string_view>& ws) {
                         counts c;
                         for (auto w : ws) {
                           ++c[w];
                         }
                         return c;
                       },
                       "count")
                   .sink(
                       taskpipe::serial_in_order,
                       [&](const counts& c) {
                         for (const auto& [w, n] : c) {
                           total[w] += n;
                         }
                       },
                       "merge")
                   .run();
  return {std::move(total), std::move(stats)};
}

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

int main(int argc, char** argv) {
  const std::size_t lines = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  const auto corpus = make_corpus(lines);
  taskpipe::executor ex;

  std::vector<std::pair<counts, taskpipe::pipeline_stats>> runs;
  for (auto s : {taskpipe::execution_strategy::token, taskpipe::execution_strategy::pinned,
                 taskpipe::execution_strategy::farm}) {
    runs.push_back(count_words(ex, corpus, s));
  }
  const bool agree = runs[0].first == runs[1].first && runs[0].first == runs[2].first;

  std::vector<std::pair<std::size_t, std::string_view>> top;
  for (const auto& [w, n] : runs[0].first) {
    top.emplace_back(n, w);
  }
  std::sort(top.rbegin(), top.rend());
  std::printf("%zu lines, %zu distinct words; the three strategies %s. Top words:", lines, top.size(),
              agree ? "agree" : "DISAGREE");
  for (std::size_t i = 0; i < std::min<std::size_t>(5, top.size()); ++i) {
    std::printf(" %.*s=%zu", static_cast<int>(top[i].second.size()), top[i].second.data(), top[i].first);
  }
  std::printf("\n\n%-30s", "");
  for (const auto& r : runs) {
    std::printf("%20s", std::string(taskpipe::to_string(r.second.strategy)).c_str());
  }
  std::printf("\n%-30s", "throughput (lines/s)");
  for (const auto& r : runs) {
    std::printf("%20.0f", r.second.throughput());
  }
  std::printf("\n%-30s", "wall time (ms)");
  for (const auto& r : runs) {
    std::printf("%20.1f", ms(r.second.elapsed));
  }
  std::printf("\n%-30s", "latency p50 / p99 (us)");
  for (const auto& r : runs) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f / %.1f", ms(r.second.latency_p50) * 1e3, ms(r.second.latency_p99) * 1e3);
    std::printf("%20s", buf);
  }
  for (std::size_t st = 0; st < runs[0].second.stages.size(); ++st) {
    const auto& name = runs[0].second.stages[st].name;
    std::printf("\n%-30s", (name + " busy / wait in (ms)").c_str());
    for (const auto& r : runs) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f / %.1f", ms(r.second.stages[st].busy), ms(r.second.stages[st].wait_input));
      std::printf("%20s", buf);
    }
  }
  std::printf("\n%-30s", "read wait for room (ms)");
  for (const auto& r : runs) {
    std::printf("%20.1f", ms(r.second.stages[0].wait_output));
  }
  std::printf("\n");
  for (const auto& r : runs) {
    if (!r.second.placement.empty()) {  // pinned: which stages ran on which of its threads
      std::printf("%s placement (%zu threads): %s\n", std::string(taskpipe::to_string(r.second.strategy)).c_str(),
                  r.second.threads, r.second.placement.c_str());
    }
  }
  return agree ? 0 : 1;
}
