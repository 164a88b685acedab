// Asks the verdict which strategy your own typed pipeline should run with: the chain below (read a line, parse it
// into numbers in parallel, keep a running total in order) is built by a factory over a sample input, calibrated,
// predicted under token, pinned and farm, and the best few candidates measured.
//
// Usage: example_verdict_chain [lines]   (default 20000)
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "taskpipe/taskpipe.hpp"
#include "taskpipe/verdict/stream_verdict.hpp"

int main(int argc, char** argv) {
  const std::size_t lines = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
  std::vector<std::string> sample;
  for (std::size_t i = 0; i < lines; ++i) {
    std::string l;
    for (std::size_t k = 0; k < 40; ++k) {
      l += std::to_string((i * 7919 + k * 104729) % 100000) + ' ';
    }
    sample.push_back(std::move(l));
  }
  double total = 0;
  auto make = [&total](taskpipe::executor& ex, const taskpipe::pipeline_options& o,
                       const std::vector<std::string>& in) {
    total = 0;
    return taskpipe::pipeline{ex, o}
        .source([&in, next = std::size_t{0}]() mutable -> std::optional<std::size_t> {
          return next < in.size() ? std::optional<std::size_t>(next++) : std::nullopt;
        })
        .stage(taskpipe::parallel,
               [&in](std::size_t line) {
                 double sum = 0;
                 const char* p = in[line].c_str();
                 char* end = nullptr;
                 for (double v = std::strtod(p, &end); end != p; v = std::strtod(p, &end)) {
                   sum += v;
                   p = end;
                 }
                 return sum;
               })
        .sink(taskpipe::serial_in_order, [&total](double s) { total += s; });
  };
  const auto report = taskpipe::verdict::compare(make, sample, {.top = 3, .repetitions = 3});
  for (const auto& row : report.rows) {
    if (row.measured) {
      std::printf("%-36s predicted %9.0f items/s, measured %9.0f items/s (%4.1f %% off), bound: %s\n",
                  row.predicted.candidate.label().c_str(), row.predicted.throughput, row.measured->throughput,
                  100 * row.error().value_or(0), row.predicted.bound_text(report.profile).c_str());
    }
  }
  std::printf("\n%s\n(total of the last run: %.0f)\n", report.verdict.c_str(), total);
  return 0;
}
