#include "taskpipe/trace/chrome_trace.hpp"

#include "taskpipe/error.hpp"
#include "taskpipe/trace/write_file.hpp"

#include <cstdio>
#include <ostream>
#include <sstream>

namespace taskpipe::trace {

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

// Chrome's trace viewer colours by these reserved names; Perfetto colours by the slice name instead.
const char* chrome_colour_name(const std::string& category) {
  if (category == "F") {
    return "thread_state_running";
  }
  if (category == "I") {
    return "rail_response";
  }
  if (category == "W") {
    return "good";
  }
  if (category == "B") {
    return "terrible";
  }
  return "generic_work";
}

std::string number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  return buf;
}

}  // namespace

void write_chrome(const timeline& t, std::ostream& out) {
  out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  out << R"({"name":"process_name","ph":"M","pid":0,"tid":0,"args":{"name":"taskpipe"}})";
  for (std::size_t i = 0; i < t.tracks.size(); ++i) {
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":" << i
        << ",\"args\":{\"name\":" << json_quote(t.tracks[i]) << "}}";
    out << ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":0,\"tid\":" << i
        << ",\"args\":{\"sort_index\":" << i << "}}";
  }
  for (const auto& e : t.events) {
    out << ",\n{\"name\":" << json_quote(e.name) << ",\"cat\":" << json_quote(e.category)
        << ",\"ph\":\"X\",\"pid\":0,\"tid\":" << e.track << ",\"ts\":" << number(e.start * t.microseconds_per_unit)
        << ",\"dur\":" << number(e.duration * t.microseconds_per_unit)
        << ",\"cname\":" << json_quote(chrome_colour_name(e.category)) << ",\"args\":{";
    for (std::size_t a = 0; a < e.args.size(); ++a) {
      out << (a > 0 ? "," : "") << json_quote(e.args[a].first) << ":" << e.args[a].second;
    }
    out << "}}";
  }
  out << "\n]}\n";
}

void write_chrome(const timeline& t, const std::string& path) {
  std::ostringstream out;
  write_chrome(t, out);
  write_file(path, out.str(), "trace file");
}

}  // namespace taskpipe::trace
