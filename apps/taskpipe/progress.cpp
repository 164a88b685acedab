#include "progress.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace taskpipe::cli {

std::string duration_text(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, std::round(seconds)));
  if (s >= 3600) {
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  }
  if (s >= 60) {
    return fmt::format("{}m{:02}s", s / 60, s % 60);
  }
  return fmt::format("{}s", s);
}

progress::progress(std::int64_t first, std::int64_t total, std::int64_t tokens_per_step, bool bar, std::int64_t every)
    : m_first(first), m_total(total), m_tokens_per_step(tokens_per_step), m_bar(bar), m_every(every) {}

void progress::update(std::int64_t step, double loss, double lr) {
  const std::int64_t done = step + 1;
  const bool last = done == m_total;
  if (!m_bar && done % m_every != 0 && !last && step != m_first) {
    return;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  const auto run = static_cast<double>(done - m_first);
  const double tokens_per_second = elapsed > 0 ? run * static_cast<double>(m_tokens_per_step) / elapsed : 0;
  const double eta = run > 0 ? elapsed / run * static_cast<double>(m_total - done) : 0;
  const std::string figures =
      fmt::format("loss {:.4f}  lr {:.2e}  {:.0f} tokens/s  ETA {}", loss, lr, tokens_per_second, duration_text(eta));
  if (m_bar) {
    constexpr int width = 24;
    const auto filled =
        static_cast<int>(static_cast<double>(width) * static_cast<double>(done) / static_cast<double>(m_total));
    fmt::print(stderr, "\rstep {}/{} [{}{}] {}\x1b[K", done, m_total,
               std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), '.'), figures);
    std::fflush(stderr);
    m_drawn = true;
  } else {
    fmt::print(stderr, "step {}/{}: {}\n", done, m_total, figures);
  }
}

void progress::finish() {
  if (m_drawn) {
    fmt::print(stderr, "\n");
    m_drawn = false;
  }
}

}  // namespace taskpipe::cli
