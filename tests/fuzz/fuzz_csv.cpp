// Fuzz target for the torch.distributed.pipelining CSV importer (pp::from_csv), and through it the validator and
// the simulator. Built two ways: with libFuzzer (scripts/fuzz, clang's -fsanitize=fuzzer) and, in the normal suite,
// with replay_main.cpp, which runs the seed corpus and every input the fuzzer ever crashed on.
//
// Properties: any bytes either import or are refused with taskpipe::invalid_argument (never another exception, a
// crash or an allocation past the limits); an imported schedule writes back to CSV and imports to the same
// schedule; validating and simulating it either succeed or throw a taskpipe::error.
#include <taskpipe/pp/costs.hpp>
#include <taskpipe/pp/notation.hpp>
#include <taskpipe/pp/simulate.hpp>
#include <taskpipe/pp/validate.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace pp = taskpipe::pp;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_csv: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands bytes; the importer reads chars.
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pp::schedule s;
  try {
    s = pp::from_csv(text);
  } catch (const taskpipe::invalid_argument&) {
    return 0;
  }
  if (s.ranks < 1 || s.stages < 1 || s.microbatches < 1 || s.stage_rank.size() != static_cast<std::size_t>(s.stages) ||
      s.orders.size() != static_cast<std::size_t>(s.ranks)) {
    broken("an imported schedule has an inconsistent shape");
  }
  const pp::schedule back = pp::from_csv(pp::to_csv(s));
  if (back.orders != s.orders || back.stage_rank != s.stage_rank || back.microbatches != s.microbatches) {
    broken("to_csv then from_csv changed the schedule");
  }
  try {
    const pp::simulation sim = pp::simulate(s, pp::costs::uniform({.f = 1, .b = 2, .w = 1, .comm = 0.5}));
    if (!(sim.makespan() >= 0)) {
      broken("a valid schedule simulated to a negative or NaN makespan");
    }
  } catch (const taskpipe::error&) {
    // schedule_error: incomplete or deadlocking, as most random schedules are
  }
  return 0;
}
