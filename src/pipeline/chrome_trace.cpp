// A run's slices as a trace::timeline (one track per thread record, one slice per stage execution), written with the
// shared Chrome-trace writer.
#include "taskpipe/trace/chrome_trace.hpp"
#include "taskpipe/pipeline/detail/recorder.hpp"
#include "taskpipe/trace/timeline.hpp"

namespace taskpipe::detail {

void write_chrome_trace(const std::string& path, const chain& c, const std::vector<thread_record>& threads,
                        double ns_per_tick) {
  trace::timeline t;
  t.microseconds_per_unit = ns_per_tick / 1e3;  // slices are in clock ticks
  std::size_t n = 0;
  for (const auto& r : threads) {
    n += r.slices.size();
  }
  t.events.reserve(n);
  for (std::size_t th = 0; th < threads.size(); ++th) {
    t.tracks.push_back(threads[th].track_name);
    for (const auto& s : threads[th].slices) {
      const std::string& name = c.stages[s.stage]->name();
      t.events.push_back(
          {.track = static_cast<int>(th),
           .name = name,
           .label = {},
           .category = std::string(to_string(c.stages[s.stage]->mode())),
           .start = static_cast<double>(s.begin_ticks),
           .duration = static_cast<double>(s.end_ticks - s.begin_ticks),
           .args = {{"item", static_cast<long long>(s.seq)}, {"stage", static_cast<long long>(s.stage)}}});
    }
  }
  trace::write_chrome(t, path);
}

}  // namespace taskpipe::detail
