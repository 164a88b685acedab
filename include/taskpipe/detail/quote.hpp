// taskpipe/detail/quote.hpp — how an error message shows bytes it got from the user (a cell of an imported file, a
// --costs item, a path): printable ASCII as it is, every other byte as \xHH (so a byte-order mark, a NUL or a stray
// newline is visible and the message stays one line), cut after `max_bytes` input bytes with "..." appended.
//
// Contract: a pure function, never throws anything but std::bad_alloc. Internal to taskpipe; every layer uses it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace taskpipe::detail {

inline std::string quote(std::string_view text, std::size_t max_bytes = 24) {
  constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  const std::size_t n = text.size() < max_bytes ? text.size() : max_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += "\\x";
      out += hex[c >> 4U];
      out += hex[c & 0xFU];
    }
  }
  if (n < text.size()) {
    out += "...";
  }
  return out;
}

}  // namespace taskpipe::detail
