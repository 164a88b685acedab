// taskpipe/verdict/model_profile.hpp — the model half of the verdict, step two: one short profiling run that every
// prediction is made from.
//
// What it measures, all on the calling thread unless said otherwise. A time is the median of runs that add up to at
// least 0.2 s (at least 5, at most 50), as the measurement takes the median of steps timed the same way
// (model_measurement.hpp): a prediction and its measurement see the machine alike, load included, and a figure of a
// millisecond is not decided by one sample.
//   per layer (embedding, h.0 .. h.{L-1}, head): F, B (I) and W seconds as a training step runs them (the whole
//     model's layers in order, every F, then each layer's I and W from the head down: a layer timed alone and again
//     finds its weights still in cache), each pass's fastest run scaled by the runs' median total over the fastest
//     passes' sum (the shares robust to preemption, the level a median step's), and the activation bytes it holds after
//     F and after I (layer_cost's activation_bytes and w_bytes, the simulator's two states, from
//     train::measure_layer_costs), at 1 row and at the global batch's rows, fitted as fixed + per_row x rows so any
//     micro-batch's cost follows (the fixed part is what small GEMMs lose);
//   the optimizer: clipping (the gradients' norm and their scaling) and one AdamW step over the whole model, each
//     per parameter byte (the trainers clip one replica's gradients and copy them, but step every replica's AdamW),
//     and zeroing the gradients, per byte (every replica's, before each step's forward);
//   the gradient sum: a += b over the model's gradient bytes, per byte (dp and hybrid sum replicas serially);
//   the transport: an activation copied into a payload, sent and received over pp::inproc_transport and copied out,
//     as a fixed cost per message plus a cost per byte; with W > 1 the fixed cost is an empty message handed from
//     one thread to another that waits for it (half a ping-pong's round trip, the median of 300) while W - 2 other
//     threads are busy: a waiting rank must be woken and, when the workers outnumber the cores, scheduled;
//   the thread start (W > 1): one thread started and joined while W - 2 others are busy, the median of 100 (the
//     parallel trainer starts its replicas' and ranks' threads every step);
//   the intra-op speed-up: the whole model's forward-backward (embedding, blocks, head and its cross-entropy: they
//     do not all split over threads alike) on the global batch with an executor of W threads, against the same on
//     one thread (what `task` gains from W threads; its clip and AdamW run on one);
//   the cores free now (cpu_burn.hpp's effective_cores for W threads): W workers on a machine that gives fewer cores
//     each run slower by W / cores;
//   what workers cost each other (W > 1): the layers at the global batch's rows timed again while min(W, hardware
//     threads) - 1 other threads run the same profile alongside (measure_layer_costs' `workers`, the fastest of
//     three), against alone (the same): a
//     pipeline's ranks and dp's replicas share the caches and the memory bus, which a layer timed alone misses.
//     A parallel worker's slowdown is the larger of that figure (times n / hardware threads when n workers
//     outnumber them) and the cores' W / cores, not their product: both see the same load when the machine is
//     shared.
// Throws taskpipe::invalid_argument for a bad workload. Thread safety: a pure function (it builds its own layers).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "taskpipe/train/partition.hpp"
#include "taskpipe/verdict/model_candidates.hpp"

namespace taskpipe::verdict {

struct model_profile {
  /// Per layer, cost(rows) = fixed + per_row x rows (times in seconds, bytes); parameter bytes in `fixed`.
  std::vector<train::layer_cost> fixed;
  std::vector<train::layer_cost> per_row;
  double clip_seconds_per_byte = 0;       ///< the gradients' norm and scaling, per parameter byte
  double optimizer_seconds_per_byte = 0;  ///< one AdamW step, per parameter byte
  double zero_seconds_per_byte = 0;       ///< zeroing the gradients, per parameter byte
  double reduce_seconds_per_byte = 0;     ///< one pass of a += b, per byte
  double transport_seconds_per_message = 0;
  double transport_seconds_per_byte = 0;
  double thread_start_seconds = 0;  ///< one thread started and joined, with the other workers busy
  double intra_op_speedup = 1;      ///< the whole forward-backward, W threads against one
  double effective_cores = 1;       ///< cores W busy threads get now, in [1, W]
  double corun_slowdown = 1;  ///< the layers' F + B + W with min(W, hardware threads) running at once, against alone
  int hardware_threads = 0;   ///< std::thread::hardware_concurrency() when profiled; 0: unknown, as many as needed
  int workers = 1;
  double parameter_bytes = 0;         ///< the whole model, wte once
  double boundary_bytes_per_row = 0;  ///< one row's activation between two layers (seq x embd floats)

  /// Every layer's cost for a micro-batch of `rows` sequences.
  [[nodiscard]] std::vector<train::layer_cost> layers_at(double rows) const;
  /// A parallel worker's slowdown when n workers run at once: 1 for n = 1, else the larger of the cores' share
  /// n / min(n, effective_cores) and corun_slowdown x max(1, n / hardware_threads); >= 1.
  [[nodiscard]] double slowdown(int workers_running) const noexcept;
};

/// Runs the profiling above; `progress(what, fraction)` is called between its parts when given.
model_profile profile_model(const model_workload& w,
                            const std::function<void(const std::string&, double)>& progress = {});

}  // namespace taskpipe::verdict
