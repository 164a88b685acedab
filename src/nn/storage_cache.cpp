#include "taskpipe/nn/storage_cache.hpp"

#include <iterator>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define TASKPIPE_NN_KEEP_NOTHING 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TASKPIPE_NN_KEEP_NOTHING 1
#endif
#endif

namespace taskpipe::nn {
namespace {

constexpr std::align_val_t storage_alignment{64};

struct storage_pool {
  std::mutex mutex;
  std::unordered_map<std::size_t, std::vector<void*>> free_blocks;  // exact size -> kept blocks
  std::size_t kept = 0;
  std::size_t limit = std::size_t{1} << 30;
};

// Never destroyed: tensors in static storage may free after other statics are gone.
storage_pool& pool() {
  static auto* p = new storage_pool;
  return *p;
}

// Frees kept blocks until at most `target` bytes are kept; the caller holds the mutex.
std::size_t shrink_to(storage_pool& p, std::size_t target) noexcept {
  std::size_t freed = 0;
  for (auto it = p.free_blocks.begin(); it != p.free_blocks.end() && p.kept > target;) {
    std::vector<void*>& blocks = it->second;
    while (!blocks.empty() && p.kept > target) {
      ::operator delete(blocks.back(), storage_alignment);
      blocks.pop_back();
      p.kept -= it->first;
      freed += it->first;
    }
    it = blocks.empty() ? p.free_blocks.erase(it) : std::next(it);
  }
  return freed;
}

}  // namespace

void* allocate_storage(std::size_t bytes) {
#if !defined(TASKPIPE_NN_KEEP_NOTHING)
  if (bytes >= cached_block_min) {
    storage_pool& p = pool();
    const std::lock_guard lock(p.mutex);
    const auto it = p.free_blocks.find(bytes);
    if (it != p.free_blocks.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      p.kept -= bytes;
      return block;
    }
  }
#endif
  return ::operator new(bytes, storage_alignment);
}

void release_storage(void* block, [[maybe_unused]] std::size_t bytes) noexcept {  // unused when nothing is kept
  if (block == nullptr) {
    return;
  }
#if !defined(TASKPIPE_NN_KEEP_NOTHING)
  if (bytes >= cached_block_min) {
    storage_pool& p = pool();
    const std::lock_guard lock(p.mutex);
    if (p.kept + bytes <= p.limit) {
      try {
        p.free_blocks[bytes].push_back(block);
        p.kept += bytes;
        return;
      } catch (...) {  // no room for the list entry: free the block instead
      }
    }
  }
#endif
  ::operator delete(block, storage_alignment);
}

std::size_t release_cached_storage() noexcept {
  storage_pool& p = pool();
  const std::lock_guard lock(p.mutex);
  return shrink_to(p, 0);
}

std::size_t cached_storage_bytes() noexcept {
  storage_pool& p = pool();
  const std::lock_guard lock(p.mutex);
  return p.kept;
}

std::size_t cache_limit() noexcept {
  storage_pool& p = pool();
  const std::lock_guard lock(p.mutex);
  return p.limit;
}

void set_cache_limit(std::size_t bytes) noexcept {
  storage_pool& p = pool();
  const std::lock_guard lock(p.mutex);
  p.limit = bytes;
  shrink_to(p, bytes);
}

}  // namespace taskpipe::nn
