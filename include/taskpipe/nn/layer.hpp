// taskpipe/nn/layer.hpp — one cuttable piece of a model: its parameters, and F, B and W for one micro-batch at a time.
//
// A model is a list of layers (GPT-2: embedding, block 0 .. L-1, head); a pipeline partitioner cuts the list into
// stages, and each stage owns only its layers' parameters and gradients (the optimizer keeps its state per parameter).
//
// Protocol, per micro-batch m:
//   auto [y, s] = l.forward(std::move(x), mb, ex);   // F: consumes x, returns the output and m's saved state
//   tensor dx = l.backward_input(*s, std::move(dy), ex);  // B: the input gradient; s now holds what W needs
//   l.backward_weight(*s, ex);                        // W: adds into the parameters' gradients; s is spent
// or `l.backward(*s, dy, ex)` for B then W at once. Each call to forward returns a fresh state, so any number of
// micro-batches can be in flight; B must follow that micro-batch's F, W must follow its B, and otherwise F, B and W
// of different micro-batches may come in any order (W long after B: zero-bubble schedules). Gradients accumulate
// over micro-batches: zero them (`zero_grad`) before a step, not before a micro-batch.
// Tensors: x and y are [rows = batch·seq, embd] activations. The embedding ignores x (it reads `mb.tokens`) and
// returns an empty dx from B; the head reads `mb.targets`, returns a one-element y holding its micro-batch's share of
// the loss, mb.loss_scale · Σ cross-entropy (so the shares of all micro-batches add up to the global batch's mean),
// and ignores dy in B (the loss is where the gradient starts).
// Memory: what F keeps goes to the layer's ledger as `activations` (and stays there until W, or until the state is
// destroyed); per-call scratch as `workspace`. When `mb.keep_state` is false (evaluation), forward returns a null
// state and keeps nothing.
// Thread safety: calls on one layer must not overlap (a stage runs its layers on one thread at a time); each call may
// use `ex` for task-parallel ops and blocks until they finish. Different layers may run concurrently.
// Throws: taskpipe::invalid_argument for a state from another layer, a spent state, or mismatched shapes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "taskpipe/nn/memory.hpp"
#include "taskpipe/nn/parameter.hpp"
#include "taskpipe/nn/tensor.hpp"

namespace taskpipe {
class executor;
}

namespace taskpipe::nn {

/// What the layers need to know about the micro-batch they run on.
struct micro_batch {
  std::span<const std::int32_t> tokens;   ///< [batch·seq], read by the embedding
  std::span<const std::int32_t> targets;  ///< [batch·seq], read by the head
  std::size_t batch = 0;
  std::size_t seq = 0;
  float loss_scale = 0.0F;  ///< the weight of one target's loss: 1 / (targets in the whole global batch)
  bool keep_state = true;   ///< false: forward only, nothing kept for B and W

  [[nodiscard]] std::size_t rows() const noexcept { return batch * seq; }
};

/// Floating-point operations of one micro-batch's F, B and W (GEMMs and attention; pointwise ops are not counted).
struct layer_flops {
  double forward = 0;
  double backward_input = 0;
  double backward_weight = 0;
};

/// One GEMM the layer issues per micro-batch (row-major cblas_sgemm): c[m, n] = op(a)[m, k] · op(b)[k, n] (+ c when
/// `accumulate`), `count` times (once per (batch, head) pair for attention), in pass 'F', 'B' or 'W'. Leading
/// dimensions are given where the operand is a strided view (attention reads q, k, v inside qkv); 0 means packed.
/// The list is what one thread issues; with an executor the same work is cut into row or column blocks.
struct gemm_shape {
  std::string name;  ///< e.g. "h.0.attn.c_attn F"
  char pass = 'F';
  bool trans_a = false;
  bool trans_b = false;
  std::size_t m = 0;
  std::size_t n = 0;
  std::size_t k = 0;
  std::size_t count = 1;
  bool accumulate = false;  ///< beta = 1 (a bias pre-loaded into c, or a gradient accumulated)
  std::size_t lda = 0;
  std::size_t ldb = 0;
  std::size_t ldc = 0;

  [[nodiscard]] std::size_t lda_or_packed() const noexcept { return lda != 0 ? lda : (trans_a ? m : k); }
  [[nodiscard]] std::size_t ldb_or_packed() const noexcept { return ldb != 0 ? ldb : (trans_b ? k : n); }
  [[nodiscard]] std::size_t ldc_or_packed() const noexcept { return ldc != 0 ? ldc : n; }

  [[nodiscard]] double flops() const noexcept {
    return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) * static_cast<double>(count);
  }
};

/// What a layer keeps from one micro-batch's F for its B and W. Opaque; owned by whoever drives the layer.
class layer_state {
 public:
  virtual ~layer_state() = default;
  layer_state() = default;
  layer_state(const layer_state&) = delete;
  layer_state& operator=(const layer_state&) = delete;
};

class layer {
 public:
  struct forward_result {
    tensor y;
    std::unique_ptr<layer_state> state;  ///< null when mb.keep_state is false
  };

  virtual ~layer() = default;
  layer() = default;
  layer(const layer&) = delete;
  layer& operator=(const layer&) = delete;

  /// "embedding", "h.0" .. "h.{L-1}", "head".
  [[nodiscard]] virtual const std::string& name() const noexcept = 0;
  /// The parameters this layer owns, in checkpoint order (a head tied to the embedding lists only ln_f).
  virtual std::vector<parameter*> parameters() = 0;

  virtual forward_result forward(tensor x, const micro_batch& mb, executor* ex) = 0;
  virtual tensor backward_input(layer_state& s, tensor dy, executor* ex) = 0;
  virtual void backward_weight(layer_state& s, executor* ex) = 0;

  /// B then W.
  tensor backward(layer_state& s, tensor dy, executor* ex) {
    tensor dx = backward_input(s, std::move(dy), ex);
    backward_weight(s, ex);
    return dx;
  }

  /// Sets every owned parameter's gradient to zero.
  void zero_grad() {
    for (parameter* p : parameters()) {
      p->grad.zero();
    }
  }

  /// The GEMMs of one micro-batch of `batch` rows of `seq` tokens, by pass.
  [[nodiscard]] virtual std::vector<gemm_shape> gemms(std::size_t batch, std::size_t seq) const = 0;
  /// FLOPs per pass (the GEMMs' sum), for a partitioner that balances by FLOPs.
  [[nodiscard]] layer_flops flops(std::size_t batch, std::size_t seq) const;
};

}  // namespace taskpipe::nn
