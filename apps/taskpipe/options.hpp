// Integer options with a documented range: the range is appended to the option's help, and a value that is not an
// integer or lies outside the range is refused while the command line is parsed (one line, exit status 2), before
// anything is allocated for it.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace taskpipe::cli {

/// The check behind `add_int_option`: an empty string when `text` is a decimal integer in [lo, hi], else the reason.
std::string check_integer(const std::string& text, long long lo, long long hi);

template <typename T>
CLI::Option* add_int_option(CLI::App* cmd, const std::string& names, T& value, long long lo, long long hi,
                            const std::string& help) {
  auto* opt = cmd->add_option(names, value, help + " [" + std::to_string(lo) + ".." + std::to_string(hi) + "]");
  opt->check(
      CLI::Validator([lo, hi](std::string& text) { return check_integer(text, lo, hi); }, "", "integer in range"));
  return opt;
}

}  // namespace taskpipe::cli
