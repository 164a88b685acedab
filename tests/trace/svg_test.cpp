#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>
#include <taskpipe/trace/svg.hpp>

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace pp = taskpipe::pp;
namespace trace = taskpipe::trace;

namespace {

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST(svg, one_box_per_action_coloured_by_kind_and_one_label_per_rank) {
  const auto s = pp::make_schedule(pp::kind::zb_h1, {.ranks = 3, .microbatches = 6});
  const auto sim = pp::simulate(s, pp::costs::uniform({}));
  std::ostringstream out;
  trace::write_svg(sim.timeline(), out);
  const std::string svg = out.str();
  EXPECT_EQ(svg.rfind("<svg", 0), 0U);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count(svg, "<title>"), s.action_count());
  const std::size_t per_kind = std::size_t{3} * 6;
  EXPECT_EQ(count(svg, std::string("fill=\"") + trace::category_colour("F") + "\" stroke"), per_kind);
  EXPECT_EQ(count(svg, std::string("fill=\"") + trace::category_colour("I") + "\" stroke"), per_kind);
  EXPECT_EQ(count(svg, std::string("fill=\"") + trace::category_colour("W") + "\" stroke"), per_kind);
  EXPECT_EQ(count(svg, ">rank 2</text>"), 1U);
  EXPECT_EQ(count(svg, ">F5</text>"), 3U);  // wide enough boxes carry their micro-batch label
}

TEST(svg, escapes_markup_in_names) {
  trace::timeline t;
  t.tracks = {"<rank & 0>"};
  std::ostringstream out;
  trace::write_svg(t, out);
  EXPECT_NE(out.str().find("&lt;rank &amp; 0&gt;"), std::string::npos);
}
