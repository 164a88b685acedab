#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "taskpipe/nn/storage_cache.hpp"
#include "taskpipe/nn/tensor.hpp"

namespace nn = taskpipe::nn;

namespace {

constexpr std::size_t big = std::size_t{256} * 1024;

// True when this build keeps blocks (not under AddressSanitizer, where the cache is off by design).
bool cache_is_on() {
  nn::release_cached_storage();
  void* a = nn::allocate_storage(big);
  nn::release_storage(a, big);
  const bool on = nn::cached_storage_bytes() == big;
  nn::release_cached_storage();
  return on;
}

}  // namespace

TEST(storage_cache, a_freed_block_serves_the_next_tensor_of_its_size_and_small_blocks_are_not_kept) {
  if (!cache_is_on()) {
    GTEST_SKIP() << "nothing is kept under AddressSanitizer";
  }
  const float* first = nullptr;
  {
    nn::tensor t({big / sizeof(float)}, nn::memory_category::activations);
    first = t.data();
    t[0] = 7;
  }
  EXPECT_EQ(nn::cached_storage_bytes(), big);
  nn::tensor again({big / sizeof(float)}, nn::memory_category::activations);
  EXPECT_EQ(again.data(), first);
  EXPECT_EQ(again[0], 0.0F) << "a zeroing tensor must not see the last owner's values";
  EXPECT_EQ(nn::cached_storage_bytes(), 0U);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(again.data()) % 64, 0U);

  void* small = nn::allocate_storage(nn::cached_block_min - 64);
  nn::release_storage(small, nn::cached_block_min - 64);
  EXPECT_EQ(nn::cached_storage_bytes(), 0U);
}

TEST(storage_cache, keeps_no_more_than_its_limit_and_gives_everything_back_on_request) {
  if (!cache_is_on()) {
    GTEST_SKIP() << "nothing is kept under AddressSanitizer";
  }
  const std::size_t old_limit = nn::cache_limit();
  nn::set_cache_limit(3 * big);
  std::vector<void*> blocks;
  blocks.reserve(5);
  for (int i = 0; i < 5; ++i) {
    blocks.push_back(nn::allocate_storage(big));
  }
  for (void* b : blocks) {
    nn::release_storage(b, big);
  }
  EXPECT_EQ(nn::cached_storage_bytes(), 3 * big);
  nn::set_cache_limit(big);
  EXPECT_EQ(nn::cached_storage_bytes(), big);
  EXPECT_EQ(nn::release_cached_storage(), big);
  EXPECT_EQ(nn::cached_storage_bytes(), 0U);
  nn::set_cache_limit(old_limit);
}

// Threads (more than cores) allocate, fill, check and free blocks of a few sizes at once: every block a thread gets
// holds only what it wrote (no block is handed to two owners), against the sequential expectation of its pattern.
TEST(storage_cache, threads_never_share_a_block) {
  const unsigned threads = std::max(4U, 2 * std::thread::hardware_concurrency());
  std::atomic<int> corrupt{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const std::size_t sizes[] = {big, 2 * big, big + 4096};
      for (int round = 0; round < 200 && std::chrono::steady_clock::now() < deadline; ++round) {
        const std::size_t bytes = sizes[(t + static_cast<unsigned>(round)) % 3];
        auto* p = static_cast<std::uint32_t*>(nn::allocate_storage(bytes));
        const std::size_t n = bytes / sizeof(std::uint32_t);
        const std::uint32_t mark = t * 1000U + static_cast<std::uint32_t>(round);
        for (std::size_t i = 0; i < n; i += 512) {
          p[i] = mark;
        }
        std::this_thread::yield();
        for (std::size_t i = 0; i < n; i += 512) {
          if (p[i] != mark) {
            corrupt.fetch_add(1);
            break;
          }
        }
        nn::release_storage(p, bytes);
      }
    });
  }
  for (std::thread& th : pool) {
    th.join();
  }
  EXPECT_EQ(corrupt.load(), 0);
  EXPECT_LT(std::chrono::steady_clock::now(), deadline + std::chrono::seconds(5));
  nn::release_cached_storage();
}
