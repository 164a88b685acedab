// The step loop shared by `taskpipe train`'s one-worker and in-process parallel runs: steps until the trainer is
// done, updates the progress bar, saves every --save-every steps and once at the end. `Trainer` is train::trainer or
// train::parallel_trainer (step(), done(), steps_done(), save()). The bar is finished before an exception leaves.
#pragma once

#include "progress.hpp"
#include "taskpipe/train/trainer.hpp"
#include "train_cli.hpp"

namespace taskpipe::cli {

struct steps_run {
  train::step_report last;
  double seconds = 0;  ///< the steps' own wall time, summed
};

template <class Trainer>
steps_run run_steps(Trainer& tr, const train_cli& o, progress& bar) {
  steps_run r;
  while (!tr.done()) {
    try {
      r.last = tr.step();
    } catch (...) {
      bar.finish();
      throw;
    }
    r.seconds += r.last.seconds;
    if (!o.quiet) {
      bar.update(r.last.step, r.last.loss, r.last.lr);
    }
    if (o.save_every > 0 && tr.steps_done() % o.save_every == 0 && !tr.done()) {
      tr.save(o.save);
    }
  }
  bar.finish();
  if (!o.save.empty()) {
    tr.save(o.save);
  }
  return r;
}

}  // namespace taskpipe::cli
