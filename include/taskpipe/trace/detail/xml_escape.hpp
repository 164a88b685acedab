// trace/detail/xml_escape.hpp — text made safe for an SVG/XML element or attribute: < > & " become entities.
// Shared by the timeline SVG writer and the verdict's Pareto plot. Pure function.
#pragma once

#include <string>
#include <string_view>

namespace taskpipe::trace::detail {

inline std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace taskpipe::trace::detail
