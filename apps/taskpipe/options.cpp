#include "options.hpp"

#include <charconv>
#include <system_error>

#include "taskpipe/detail/quote.hpp"

namespace taskpipe::cli {

std::string check_integer(const std::string& text, long long lo, long long hi) {
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  long long v = 0;
  const char* const first = text.data();
  const char* const last = first + text.size();
  const auto [end, ec] = std::from_chars(first, last, v);
  if (ec == std::errc::result_out_of_range) {
    return "'" + detail::quote(text) + "' is out of range " + range;
  }
  if (text.empty() || ec != std::errc{} || end != last) {
    return "'" + detail::quote(text) + "' is not an integer; expected " + range;
  }
  if (v < lo || v > hi) {
    return text + " is out of range " + range;
  }
  return {};
}

}  // namespace taskpipe::cli
