// The model section of bench/verdict_accuracy: the model verdict (verdict::compare_model, the code path of
// `taskpipe verdict --model`) run on the built-in model (under its tight limit and with none, from one profile, as the
// command line does) and on seeded random GPT-2 configurations, with every candidate that fits measured. It prints
// one line per model, the errors per candidate kind (task, dp, each pp and hybrid schedule kind), and a summary with
// PASS or MISS per target:
//   step time |predicted - measured| / measured: mean <= 5 %, worst <= 10 %;
//   peak memory per worker, predicted against the trainers' memory ledger high-water mark: worst within 5 %;
//   no recommended candidate over the memory limit (measured);
//   the pick: the measured best whenever it leads the runner-up by more than max(3 %, twice its spread), else at most
//   3 % slower; judged both for the verdict's recommendation and for the prediction's own first choice;
//   Kendall tau-b between predicted and measured orders >= 0.9.
#pragma once

#include <cstdint>

namespace taskpipe::bench {

struct model_section_options {
  int models = 6;          ///< random configurations besides the built-in model
  int steps = 3;           ///< the least timed training steps per measured candidate (more until 0.2 s)
  std::uint64_t seed = 1;  ///< the first random configuration's seed
  bool verbose = false;    ///< one line per measured candidate
};

/// Runs the section and prints it; returns the number of targets missed.
int run_model_section(const model_section_options& o);

}  // namespace taskpipe::bench
