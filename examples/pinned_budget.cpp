// A pinned pipeline on a thread budget: eight stages on the executor's two workers' worth of threads, placed by the
// cost each stage declares; the statistics say where each stage ran. Then the same chain again, placed by the costs
// the first run measured. Two threads are fewer than the chain's three runs (read | parse | the serial steps), so each
// serial run keeps a thread and both threads help with parse whenever their own input is empty
// ("parse: threads 0-1 helping").
//
//   read (serial) → parse (parallel) → 5 light serial steps → checksum (serial, in order)
#include <taskpipe/taskpipe.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace {

std::uint64_t mix(std::uint64_t v, int rounds) {
  for (int r = 0; r < rounds; ++r) {
    v ^= v >> 33U;
    v *= 0xff51afd7ed558ccdULL;
  }
  return v;
}

}  // namespace

int main() {
  taskpipe::executor ex{{.workers = 2}};
  std::uint64_t next = 0;
  std::uint64_t checksum = 0;
  auto chain = taskpipe::pipeline{ex,
                                  {.max_in_flight = 32,
                                   .strategy = taskpipe::execution_strategy::pinned,
                                   // read, parse, five steps, checksum: parse is the heavy one
                                   .stage_costs = {1, 40, 1, 1, 1, 1, 1, 2}}}
                   .source(
                       [&]() -> std::optional<std::uint64_t> {
                         return next < 100000 ? std::optional<std::uint64_t>(next++) : std::nullopt;
                       },
                       "read")
                   .stage(
                       taskpipe::parallel, [](std::uint64_t v) { return mix(v, 200); }, "parse");
  for (int i = 0; i < 5; ++i) {
    chain = std::move(chain).stage(
        taskpipe::serial_in_order, [](std::uint64_t v) { return v + 1; }, "step" + std::to_string(i));
  }
  auto p = std::move(chain).sink(
      taskpipe::serial_in_order, [&](std::uint64_t v) { checksum ^= v; }, "checksum");

  const auto declared = p.run();
  std::printf("declared costs: %llu items on %zu threads: %s\n", static_cast<unsigned long long>(declared.items),
              declared.threads, declared.placement.c_str());

  const std::uint64_t first_checksum = std::exchange(checksum, 0);
  next = 0;
  p.options().stage_costs.clear();  // now placed by what the first run measured
  const auto measured = p.run();
  std::printf("measured costs: %llu items on %zu threads: %s\n", static_cast<unsigned long long>(measured.items),
              measured.threads, measured.placement.c_str());
  std::printf("checksum %016llx\n", static_cast<unsigned long long>(checksum));
  return checksum == first_checksum && declared.threads <= ex.num_workers() && measured.threads <= ex.num_workers() ? 0
                                                                                                                    : 1;
}
