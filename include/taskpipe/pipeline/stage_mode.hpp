// taskpipe/pipeline/stage_mode.hpp — how a pipeline stage may be called: one item at a time, in order or not, or
// concurrently.
//
// - `serial_in_order`: at most one call at a time, and items arrive in the order the source produced them. Use it for
//   an ordered writer or any stage whose state depends on order.
// - `serial_out_of_order`: at most one call at a time, in whatever order items reach the stage. Cheaper than in-order
//   when the stage keeps state but order does not matter (a counter, a histogram).
// - `parallel`: any number of concurrent calls on different items; the stage must be thread safe.
//
// The source is always called serially (in order, since it defines the order).
//
// Example:
//   pipeline.stage(taskpipe::parallel, [](line l) { return parse(l); })
//           .sink(taskpipe::serial_in_order, [&](record r) { out << r; });
#pragma once

#include <cstdint>
#include <string_view>

namespace taskpipe {

enum class stage_mode : std::uint8_t { serial_in_order, serial_out_of_order, parallel };

inline constexpr stage_mode serial_in_order = stage_mode::serial_in_order;
inline constexpr stage_mode serial_out_of_order = stage_mode::serial_out_of_order;
inline constexpr stage_mode parallel = stage_mode::parallel;

[[nodiscard]] constexpr bool is_serial(stage_mode m) noexcept { return m != stage_mode::parallel; }

[[nodiscard]] constexpr std::string_view to_string(stage_mode m) noexcept {
  switch (m) {
    case stage_mode::serial_in_order:
      return "serial_in_order";
    case stage_mode::serial_out_of_order:
      return "serial_out_of_order";
    case stage_mode::parallel:
      return "parallel";
  }
  return "?";
}

}  // namespace taskpipe
