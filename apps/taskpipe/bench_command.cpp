#include "bench_command.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "forkjoin.hpp"
#include "options.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace taskpipe::cli {
namespace {

struct bench_options {
  std::size_t workers = 2;
  int repetitions = 5;
  std::string size = "small";
  bool json = false;
};

struct sizes {
  int fib;
  std::int64_t skynet;
  int nqueens;
  std::size_t matmul;
};

sizes sizes_for(const std::string& name) {
  if (name == "small") {
    return {30, 1'000'000, 10, 512};
  }
  return {34, 10'000'000, 12, 1024};  // "large": the sizes of ../shared/BENCHMARKS.md
}

// Median wall time in milliseconds of `reps` runs of `run`, which returns a checksum compared against `expect`.
double median_ms(int reps, std::int64_t expect, const std::string& what, const std::function<std::int64_t()>& run) {
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::int64_t got = run();
    const auto t1 = std::chrono::steady_clock::now();
    if (got != expect) {
      throw std::runtime_error(fmt::format("{} computed {} instead of {}", what, got, expect));
    }
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

struct row {
  std::string workload;
  std::string size;
  double serial_ms;
  double taskpipe_ms;
};

void run_bench(const bench_options& o) {
  const sizes sz = sizes_for(o.size);
  executor ex{{.workers = o.workers}};
  workloads::serial_forker serial;
  workloads::taskpipe_forker par{&ex};
  std::vector<row> rows;

  auto both = [&](const std::string& name, const std::string& size, auto&& body) {
    const std::int64_t expect = body(serial);
    const double s = median_ms(o.repetitions, expect, name + " (serial)", [&] { return body(serial); });
    const double p = median_ms(o.repetitions, expect, name + " (taskpipe)", [&] {
      // The root runs on a worker; the calling thread only waits (it would otherwise compute beside the workers).
      return ex.async([&] { return body(par); }).get();
    });
    rows.push_back({name, size, s, p});
  };

  both("fib", std::to_string(sz.fib), [&](auto& fk) { return workloads::fib(fk, sz.fib); });
  both("skynet", std::to_string(sz.skynet), [&](auto& fk) { return workloads::skynet(fk, 0, sz.skynet); });
  both("nqueens", std::to_string(sz.nqueens), [&](auto& fk) { return workloads::nqueens(fk, sz.nqueens); });
  workloads::matmul_inputs mm{sz.matmul};
  both("matmul", fmt::format("{}x{}", sz.matmul, sz.matmul), [&](auto& fk) {
    mm.clear_c();
    workloads::matmul(fk, mm.a(), mm.b(), mm.c(), mm.n, mm.ld);
    return static_cast<std::int64_t>(mm.c_sum());
  });

  // spawn_overhead: fib(30) on one worker against serial fib(30), per spawned task.
  const int ovh_n = 30;
  double ovh_serial = 0;
  double ovh_one = 0;
  {
    executor one{{.workers = 1}};
    workloads::taskpipe_forker fk1{&one};
    const std::int64_t expect = workloads::fib(serial, ovh_n);
    ovh_serial =
        median_ms(o.repetitions, expect, "spawn_overhead (serial)", [&] { return workloads::fib(serial, ovh_n); });
    ovh_one = median_ms(o.repetitions, expect, "spawn_overhead (1 worker)",
                        [&] { return one.async([&] { return workloads::fib(fk1, ovh_n); }).get(); });
  }
  const double ns_per_task = (ovh_one - ovh_serial) * 1e6 / static_cast<double>(workloads::fib_spawns(ovh_n));

  if (o.json) {
    nlohmann::json j;
    j["workers"] = o.workers;
    j["repetitions"] = o.repetitions;
    for (const auto& r : rows) {
      j["workloads"].push_back({{"workload", r.workload},
                                {"size", r.size},
                                {"serial_ms", r.serial_ms},
                                {"taskpipe_ms", r.taskpipe_ms},
                                {"speedup", r.serial_ms / r.taskpipe_ms}});
    }
    j["spawn_overhead_ns_per_task"] = ns_per_task;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("taskpipe bench: fork-join workloads, {} workers, median of {} runs\n\n", o.workers, o.repetitions);
  fmt::print("{:<16}{:>12}{:>14}{:>14}{:>10}\n", "workload", "size", "serial ms", "taskpipe ms", "speed-up");
  for (const auto& r : rows) {
    fmt::print("{:<16}{:>12}{:>14.2f}{:>14.2f}{:>9.2f}x\n", r.workload, r.size, r.serial_ms, r.taskpipe_ms,
               r.serial_ms / r.taskpipe_ms);
  }
  fmt::print("\nspawn_overhead: {:.1f} ns per task (fib({}) on 1 worker against serial fib({}))\n", ns_per_task, ovh_n,
             ovh_n);
  fmt::print(
      "fib and skynet fork a task per call with no cutoff: they weigh a task against a function call, so serial\n"
      "code wins them on any runtime; nqueens and matmul carry real work per task.\n");
  fmt::print("For taskpipe against oneTBB, build the `bench` preset and run bench/forkjoin (see the README).\n");
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto opts = std::make_shared<bench_options>();
  CLI::App* cmd =
      app.add_subcommand("bench", "Run the fork-join micro-benchmarks serial and on taskpipe, print the speed-ups");
  add_int_option(cmd, "-w,--workers", opts->workers, 1, 256, "Worker threads for the parallel runs")
      ->capture_default_str();
  add_int_option(cmd, "-r,--repetitions", opts->repetitions, 1, 1000, "Runs per measurement; the median is reported")
      ->capture_default_str();
  cmd->add_option("-s,--size", opts->size, "Problem sizes: small (quick) or large (../shared/BENCHMARKS.md sizes)")
      ->capture_default_str()
      ->check(CLI::IsMember({"small", "large"}));
  cmd->add_flag("--json", opts->json, "Print the results as JSON");
  cmd->callback([opts] { run_bench(*opts); });
}

}  // namespace taskpipe::cli
