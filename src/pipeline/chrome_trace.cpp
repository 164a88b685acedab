// The pipeline's own Chrome-trace writer: a self-contained stand-in until the shared trace layer
// (include/taskpipe/trace/) lands; the event layout (complete "X" events, one tid per thread) is the one Perfetto reads.
#include <cstdio>
#include <fstream>
#include <string>

#include "taskpipe/error.hpp"
#include "taskpipe/pipeline/detail/recorder.hpp"

namespace taskpipe::detail {
namespace {

std::string json_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

void write_chrome_trace(const std::string& path, const chain& c, const std::vector<thread_record>& threads, double ns_per_tick) {
  std::ofstream f{path, std::ios::binary | std::ios::trunc};
  if (!f) {
    throw error("pipeline trace_path = \"" + path + "\" cannot be opened for writing; accepted: a writable file path");
  }
  f << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  f << R"({"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"taskpipe pipeline"}})";
  char num[64];
  for (std::size_t t = 0; t < threads.size(); ++t) {
    f << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" << t << ",\"args\":{\"name\":\""
      << json_escape(threads[t].track_name) << "\"}}";
    for (const auto& s : threads[t].slices) {
      // Chrome-trace times are microseconds; keep nanosecond resolution as decimals.
      std::snprintf(num, sizeof num, "%.3f", static_cast<double>(s.begin_ticks) * ns_per_tick / 1e3);
      f << ",\n{\"name\":\"" << json_escape(c.stages[s.stage]->name()) << "\",\"cat\":\"pipeline\",\"ph\":\"X\",\"pid\":1,\"tid\":" << t
        << ",\"ts\":" << num;
      std::snprintf(num, sizeof num, "%.3f", static_cast<double>(s.end_ticks - s.begin_ticks) * ns_per_tick / 1e3);
      f << ",\"dur\":" << num << ",\"args\":{\"item\":" << s.seq << "}}";
    }
  }
  f << "\n]}\n";
  if (!f) {
    throw error("pipeline trace_path = \"" + path + "\": writing the trace failed (disk full?)");
  }
}

}  // namespace taskpipe::detail
