#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>
#include <taskpipe/trace/text_view.hpp>

#include <gtest/gtest.h>

namespace pp = taskpipe::pp;
namespace trace = taskpipe::trace;

TEST(text_view, draws_gpipe_on_two_ranks_exactly) {
  const auto s = pp::make_schedule(pp::kind::gpipe, {.ranks = 2, .microbatches = 2});
  const auto sim = pp::simulate(s, pp::costs::uniform({.f = 1, .b = 1, .w = 1}));
  // Makespan 9 units at 4 columns a unit: F 4 columns, B (I + W) 8 columns.
  EXPECT_EQ(trace::text_view(sim.timeline(), 36),
            "rank 0 |F0  F1  ............B0      B1      |\n"
            "rank 1 |....F0  F1  B0      B1      ........|\n");
}

TEST(text_view, narrow_slices_show_their_kind_letter) {
  trace::timeline t;
  t.tracks = {"r"};
  t.events.push_back({0, "0F12", "F12", "F", 0, 1, {}});
  t.events.push_back({0, "0W12", "W12", "W", 1, 1, {}});
  EXPECT_EQ(trace::text_view(t, 4), "r |FFWW|\n");
  EXPECT_THROW((void)trace::text_view(t, 0), taskpipe::invalid_argument);
  EXPECT_THROW((void)trace::text_view(t, 2000000000), taskpipe::invalid_argument);
  EXPECT_EQ(trace::text_view(t, trace::max_text_columns).size(), 5 + static_cast<std::size_t>(trace::max_text_columns));
}
