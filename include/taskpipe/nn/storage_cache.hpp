// taskpipe/nn/storage_cache.hpp — where tensors get their memory: blocks that a training step frees are kept for the
// next step's tensors of the same size instead of going back to the operating system.
//
// Why: a step allocates and frees the same tensors every time. Through plain operator new, glibc serves a block of
// 128 KiB or more with mmap and unmaps it on free (or trims the heap top), so every step faulted its activations in
// again, page by page, zeroed by the kernel. Measured on the reference model (bench/train_parallel, 2 cores): GPipe's
// forward slices ran 38 % longer than the same layers profiled alone, and steps of every strategy 5-13 % slower than
// with freed memory kept.
// Contract: `allocate_storage(bytes)` returns a 64-byte aligned block of at least `bytes` (throws std::bad_alloc);
// `release_storage(p, bytes)` takes it back with the same `bytes`. Blocks of at least `cached_block_min` bytes are
// kept on free, in exact-size lists, up to `cache_limit()` bytes in all; past it, and for smaller blocks, memory goes
// straight back to the allocator. `release_cached_storage()` frees every kept block (call it when training is over);
// `cached_storage_bytes()` says how much is kept. Under AddressSanitizer nothing is kept, so a use after free is still
// reported. Thread safety: every function may be called from any thread (one mutex; a step takes it a few hundred
// times).
#pragma once

#include <cstddef>

namespace taskpipe::nn {

inline constexpr std::size_t cached_block_min = std::size_t{64} * 1024;

[[nodiscard]] void* allocate_storage(std::size_t bytes);
void release_storage(void* block, std::size_t bytes) noexcept;

/// Frees every kept block; returns the bytes freed.
std::size_t release_cached_storage() noexcept;
/// Bytes kept for reuse now.
[[nodiscard]] std::size_t cached_storage_bytes() noexcept;
/// The most the cache keeps: 1 GiB by default.
[[nodiscard]] std::size_t cache_limit() noexcept;
/// Sets the limit (0 keeps nothing) and frees kept blocks beyond it.
void set_cache_limit(std::size_t bytes) noexcept;

}  // namespace taskpipe::nn
