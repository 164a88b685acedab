// A Google Benchmark main that, after the usual output, prints the ratio table the project's performance claims are
// made in: for each workload (benchmark name `<workload>/<impl>[/<arg>]`), the median time of every impl divided by
// the reference impl's median, all from this one run. Use `--benchmark_repetitions=N` for medians over N runs.
#pragma once

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace taskpipe::bench {

/// The console reporter's options as Google Benchmark's own would take them from `--benchmark_color`: a reporter
/// handed to RunSpecifiedBenchmarks is built by us and does not read the flag itself. Counters stay tabular.
inline benchmark::ConsoleReporter::OutputOptions console_options(int argc, char** argv) {
  std::string_view color = "auto";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--benchmark_color") {
      color = "true";
    } else if (a.starts_with("--benchmark_color=")) {
      color = a.substr(std::string_view("--benchmark_color=").size());
    }
  }
  bool on = color == "true" || color == "yes" || color == "1" || color == "force";
  if (color == "auto") {
    const char* term = std::getenv("TERM");
    on = isatty(STDOUT_FILENO) != 0 && term != nullptr && std::string_view(term) != "dumb" && *term != '\0';
  }
  return on ? benchmark::ConsoleReporter::OO_ColorTabular : benchmark::ConsoleReporter::OO_Tabular;
}

/// True when the command line asks for help (`--help`, `-h`): the program prints its usage and runs nothing.
inline bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h" || a == "-help") {
      return true;
    }
  }
  return false;
}

class ratio_collector : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.error_occurred) {
        continue;
      }
      std::string name = r.run_name.str();
      if (const auto rt = name.find("/real_time"); rt != std::string::npos) {
        name.erase(rt);
      }
      // With --benchmark_report_aggregates_only only the aggregates arrive: take the median as the one sample.
      if (r.run_type == Run::RT_Iteration) {
        samples_[name].push_back(r.GetAdjustedRealTime());
      } else if (r.aggregate_name == "median") {
        medians_[name] = r.GetAdjustedRealTime();
      }
    }
  }

  // name "<workload>/<impl>/<arg>" -> workload "<workload>/<arg>", impl "<impl>"
  void print_ratios(const std::vector<std::string>& impls, const std::string& reference) const {
    std::map<std::string, std::map<std::string, double>> table;
    auto all = medians_;
    for (const auto& [name, times] : samples_) {
      auto sorted = times;
      std::sort(sorted.begin(), sorted.end());
      all.try_emplace(name, sorted[sorted.size() / 2]);
    }
    for (const auto& [name, median] : all) {
      const auto first = name.find('/');
      if (first == std::string::npos) {
        continue;
      }
      const auto second = name.find('/', first + 1);
      const std::string workload = name.substr(0, first);
      const std::string impl =
          name.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
      const std::string arg = second == std::string::npos ? "" : name.substr(second);
      table[workload + arg][impl] = median;
    }
    std::printf("\nMedian time relative to %s (lower is faster), from this run:\n%-28s", reference.c_str(), "workload");
    for (const auto& impl : impls) {
      std::printf("%14s", impl.c_str());
    }
    std::printf("\n");
    for (const auto& [workload, by_impl] : table) {
      std::printf("%-28s", workload.c_str());
      const auto ref = by_impl.find(reference);
      for (const auto& impl : impls) {
        const auto it = by_impl.find(impl);
        if (it == by_impl.end() || ref == by_impl.end()) {
          std::printf("%14s", "-");
        } else {
          std::printf("%13.3fx", it->second / ref->second);
        }
      }
      std::printf("\n");
    }
  }

 private:
  std::map<std::string, std::vector<double>> samples_;
  std::map<std::string, double> medians_;
};

/// Runs the registered benchmarks with the ratio table at the end. With `--help` it prints `usage` (the program's
/// own options, if any), then Google Benchmark's flags, and runs nothing.
inline int run_with_ratios(int argc, char** argv, const std::vector<std::string>& impls, const std::string& reference,
                           std::string_view usage = {}) {
  if (wants_help(argc, argv)) {
    std::printf("%.*s%sGoogle Benchmark's flags:\n", static_cast<int>(usage.size()), usage.data(),
                usage.empty() ? "" : "\n");
    std::fflush(stdout);
    char* help_only[] = {argv[0], const_cast<char*>("--help"), nullptr};  // NOLINT: benchmark's C-style interface
    int one = 2;
    benchmark::Initialize(&one, help_only);  // prints its usage and exits
    return 0;
  }
  const auto options = console_options(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 2;
  }
  ratio_collector reporter{options};
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios(impls, reference);
  benchmark::Shutdown();
  return 0;
}

}  // namespace taskpipe::bench
