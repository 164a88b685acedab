// What the two halves of `taskpipe verdict` (chains and models) share: the progress line and the units of the tables.
#pragma once

#include <string>

namespace taskpipe::cli {

/// One line that rewrites itself on a terminal, plain lines otherwise; nothing under --json on a pipe.
class progress_line {
 public:
  explicit progress_line(bool quiet);
  void operator()(const std::string& subject, const std::string& what, double done);

 private:
  bool m_tty;
  bool m_quiet;
};

/// "1.5 MiB", "12.0 KiB", "300 B".
std::string bytes_text(double b);
/// "1.20 M/s", "3.4 k/s", "12.0 /s".
std::string rate_text(double x);
/// "1.20 ms", "3.4 us", "120 ns".
std::string time_text(double ns);

}  // namespace taskpipe::cli
