// The training progress report on stderr: a bar redrawn in place on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace taskpipe::cli {

class progress {
 public:
  /// `bar`: redraw one line in place (stderr is a terminal); else a line every `every` steps and at the last.
  progress(std::int64_t first, std::int64_t total, std::int64_t tokens_per_step, bool bar, std::int64_t every);
  /// After step `step` (from 0) with this loss.
  void update(std::int64_t step, double loss, double lr);
  /// Ends the bar's line.
  void finish();

 private:
  std::int64_t m_first;
  std::int64_t m_total;
  std::int64_t m_tokens_per_step;
  bool m_bar;
  std::int64_t m_every;
  bool m_drawn = false;
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

/// "1h02m", "3m05s", "12s".
std::string duration_text(double seconds);

}  // namespace taskpipe::cli
