// Pieces the neural-net commands (train, eval, generate) share: reading the corpus, making the executor, JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "taskpipe/nn/memory.hpp"

namespace taskpipe {
class executor;
}

namespace taskpipe::cli {

/// The bytes of `path`, or of the default fortunes corpus when `path` is empty; throws naming the problem.
std::vector<std::uint8_t> read_corpus(const std::string& path);

/// An executor of `threads` workers, or null for 1 (the ops then run serially on the calling thread).
std::unique_ptr<executor> make_executor(int threads);

/// `{"parameters": ..., ..., "total": ...}` as a JSON object text: the ledger's peak bytes by category.
std::string peak_bytes_json(const nn::memory_ledger& ledger);

/// The most workers --threads accepts.
inline constexpr int max_threads = 256;

/// Refuses (taskpipe::invalid_argument) an output path whose directory does not exist, before any work is done.
void check_output_path(const std::string& flag, const std::string& path);

}  // namespace taskpipe::cli
