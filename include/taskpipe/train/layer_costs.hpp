// taskpipe/train/layer_costs.hpp — what the partitioner balances: each GPT-2 layer's F, B and W cost, its parameter
// bytes and the activation bytes one micro-batch's F keeps.
//
// Two sources of time: `flops` takes each layer's FLOPs per pass (layer::flops, the GEMMs and attention); `profile`
// times one worker running each layer's F, B and W on a probe micro-batch, the fastest of `repeats` runs, in
// seconds. Either way the layers are built one at a time (nn::make_layer) and each runs F once on the probe
// micro-batch (token ids 0, 1, 2, ... modulo the vocabulary) and then I, so the activation bytes are what the layer
// really holds between its F and its W, in the simulator's two states (pp::stage_cost): activation_bytes, its
// ledger's `activations` after F (less its output), and w_bytes, after I (F's, less what I freed, plus the output
// gradients W needs; less the input gradient it sends). Each also runs W, and `work_bytes` is the most any of its
// three passes held at once above that count while it ran (its input and output, the gradients in and out, a split
// backward's temporaries, attention's scratch), read from the ledger's window peak. The whole model is never held at
// once.
// `workers` > 1 (profile only): the calling thread's times are taken while workers - 1 other threads run the same
// profile alongside, so they include what a pipeline's ranks cost each other (a shared cache and memory bus, and
// fewer cores than workers on a loaded or small machine), which a layer profiled alone misses.
// Throws taskpipe::invalid_argument for a bad config, rows < 1 or seq outside [1, context], repeats < 1 or
// workers < 1.
// `stage_costs` sums those per-layer costs over each stage of a cut (bounds as partition::bounds) into the
// simulator's cost model (pp::simulate), with no communication cost; it throws taskpipe::invalid_argument for bounds
// that are not increasing or reach past the layers.
// Thread safety: pure functions (measure_layer_costs allocates its own layers, and its own threads for workers > 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/pp/costs.hpp"
#include "taskpipe/train/partition.hpp"

namespace taskpipe::train {

enum class cost_source { flops, profile };

/// "flops" or "profile".
std::string_view to_string(cost_source s) noexcept;
/// The inverse; throws taskpipe::invalid_argument listing the names.
cost_source parse_cost_source(std::string_view name);

/// One entry per layer (embedding, h.0 .. h.{L-1}, head) for a micro-batch of `rows` sequences of `seq` tokens.
std::vector<layer_cost> measure_layer_costs(const nn::gpt2_config& config, std::uint64_t seed, std::size_t rows,
                                            std::size_t seq, cost_source source, int repeats = 2, int workers = 1);

/// Per stage s, the sums of F, B and W over layers [bounds[s], bounds[s+1]): the simulator's costs of the cut.
pp::costs stage_costs(std::span<const layer_cost> layers, std::span<const std::size_t> bounds);

}  // namespace taskpipe::train
