// A loaded machine on demand: `--load=N` starts N plain threads that spin on integer work, at normal priority, for
// the whole run, so a benchmark shows how an algorithm behaves when other processes take cores from its workers
// (the ordered scan, for one, used to wait for a descheduled chunk). The figures to compare are the ratios against
// oneTBB with and without the load, from runs on the same machine.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

namespace taskpipe::bench {

class background_load {
 public:
  static constexpr unsigned max_threads = 64;

  explicit background_load(unsigned threads) {
    for (unsigned t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t] {
        unsigned long long x = t + 1;
        while (!stop_.load(std::memory_order_relaxed)) {
          for (int i = 0; i < 4096; ++i) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
          }
          sink_.store(x, std::memory_order_relaxed);
        }
      });
    }
  }
  background_load(const background_load&) = delete;
  background_load& operator=(const background_load&) = delete;
  ~background_load() {
    stop_.store(true);
    for (auto& t : threads_) {
      t.join();
    }
  }

  /// Removes `--load=N` from the command line and returns N (0 without it); exits with status 2 on a bad N.
  static unsigned take_flag(int& argc, char** argv) {
    constexpr std::string_view flag = "--load=";
    unsigned n = 0;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (!a.starts_with(flag)) {
        argv[kept++] = argv[i];
        continue;
      }
      char* end = nullptr;
      const char* text = argv[i] + flag.size();
      const unsigned long v = std::strtoul(text, &end, 10);
      if (end == text || *end != '\0' || v > max_threads || std::strchr(text, '-') != nullptr) {
        std::fprintf(stderr, "error: --load=%s is out of range; accepted: 0 to %u spinning threads\n", text,
                     max_threads);
        std::exit(2);
      }
      n = static_cast<unsigned>(v);
    }
    argc = kept;
    argv[kept] = nullptr;
    return n;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<unsigned long long> sink_{0};
  std::vector<std::thread> threads_;
};

}  // namespace taskpipe::bench
