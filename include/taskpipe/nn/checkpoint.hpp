// taskpipe/nn/checkpoint.hpp — a GPT-2 model, its optimizer and its place in the data, as one safetensors file.
//
// The file: the model's parameters under Hugging Face GPT-2's names and shapes ("wte.weight" [vocab, d],
// "h.0.attn.c_attn.weight" [d, 3d], ..., "ln_f.bias"), so tools that read HF GPT-2 safetensors find what they expect;
// the AdamW moments, when saved, as extra tensors "optimizer.exp_avg.<name>" and "optimizer.exp_avg_sq.<name>"
// (tools loading only the model skip the "optimizer." prefix, or load non-strictly). `__metadata__` holds strings:
//   format "taskpipe-gpt2-v1"; the config in HF's names: vocab_size, n_positions, n_embd, n_layer, n_head;
//   with optimizer state: optimizer_step (torch's state['step']);
//   with a training position: step (steps done), data_position, rng_state (the loader's, decimal u64), batch, seq,
//   shuffle ("0"/"1"), seed, data_tokens (the training split's length).
// One file rather than a sibling keeps the model and the state that continues it atomic together.
// Contract: `read_checkpoint` refuses (taskpipe::error, one line naming the file and the problem) what
// read_safetensors refuses, a missing or invalid config, and `load_weights` / `load_optimizer` refuse a missing
// tensor, a tensor whose shape differs from the model's, or a tensor the model does not have. Thread safety: free
// functions on their arguments.
#pragma once

#include "taskpipe/nn/adamw.hpp"
#include "taskpipe/nn/gpt2_config.hpp"
#include "taskpipe/nn/parameter.hpp"
#include "taskpipe/nn/safetensors.hpp"
#include "taskpipe/nn/text_data.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace taskpipe::nn {

/// Where a training run stands: enough, with the optimizer, to continue it exactly.
struct training_position {
  std::int64_t step = 0;  ///< steps done
  loader_state data;
  int batch = 0;
  int seq = 0;
  bool shuffle = false;
  std::uint64_t seed = 0;
  std::uint64_t data_tokens = 0;  ///< the training split's length: a resumed run must read the same data
};

/// Writes the parameters (and, when given, the optimizer state and the position) atomically to `path`.
void save_checkpoint(const std::string& path, const gpt2_config& config, std::span<parameter* const> params,
                     const adamw* optimizer = nullptr, const training_position* position = nullptr);

struct checkpoint {
  std::string path;
  gpt2_config config;
  safetensors_file file;
  std::optional<std::int64_t> optimizer_step;  ///< present when the optimizer state was saved
  std::optional<training_position> position;   ///< present when a training position was saved
};

/// Reads and checks the file and its config.
checkpoint read_checkpoint(const std::string& path);

/// Copies the checkpoint's weights into `params` (the model built from checkpoint.config), checking names and shapes.
void load_weights(const checkpoint& c, std::span<parameter* const> params);

/// Restores the optimizer's moments and step count; throws when the checkpoint holds no optimizer state.
void load_optimizer(const checkpoint& c, adamw& optimizer);

}  // namespace taskpipe::nn
