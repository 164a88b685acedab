#include "verdict_common.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>

namespace taskpipe::cli {

progress_line::progress_line(bool quiet) : m_tty(::isatty(STDERR_FILENO) == 1), m_quiet(quiet) {}

void progress_line::operator()(const std::string& subject, const std::string& what, double done) {
  if (m_quiet && !m_tty) {
    return;
  }
  if (m_tty) {
    constexpr int bar = 24;
    const int filled = static_cast<int>(done * bar);
    fmt::print(stderr, "\r{} [{}{}] {:3.0f}% {:<48}", subject, std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(bar - filled), '.'), done * 100, what.substr(0, 48));
    if (done >= 1) {
      fmt::print(stderr, "\r{:<100}\r", "");
    }
  } else {
    fmt::print(stderr, "{}: {}\n", subject, what);
  }
  std::fflush(stderr);
}

std::string bytes_text(double b) {
  if (b >= 1 << 20) {
    return fmt::format("{:.1f} MiB", b / (1 << 20));
  }
  if (b >= 1 << 10) {
    return fmt::format("{:.1f} KiB", b / (1 << 10));
  }
  return fmt::format("{:.0f} B", b);
}

std::string rate_text(double x) {
  if (x >= 1e6) {
    return fmt::format("{:.2f} M/s", x / 1e6);
  }
  if (x >= 1e3) {
    return fmt::format("{:.1f} k/s", x / 1e3);
  }
  return fmt::format("{:.1f} /s", x);
}

std::string time_text(double ns) {
  if (ns >= 1e6) {
    return fmt::format("{:.2f} ms", ns / 1e6);
  }
  if (ns >= 1e3) {
    return fmt::format("{:.1f} us", ns / 1e3);
  }
  return fmt::format("{:.0f} ns", ns);
}

}  // namespace taskpipe::cli
