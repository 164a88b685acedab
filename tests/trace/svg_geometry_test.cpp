// Geometry of the SVG timeline read back from its text: every text element lies inside the picture, every slice
// label inside its box, tick labels apart, and most slices labelled, for pipelines from 2 x 4 to 32 x 256.
#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>
#include <taskpipe/trace/svg.hpp>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace pp = taskpipe::pp;
namespace trace = taskpipe::trace;

namespace {

struct box {
  double x, y, w, h;
};

struct text {
  double left, right, y;
  std::string content;
};

// Plain string search: std::regex over tens of thousands of slices takes minutes in a debug build.
double attr(const std::string& element, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const auto at = element.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no " << name << " in " << element;
    return 0;
  }
  return std::stod(element.substr(at + key.size()));
}

// The first <text ...>content</text> in `line` from `from`: the opening tag and the content.
bool next_text(const std::string& line, std::string& tag, std::string& content, std::size_t from = 0) {
  const auto open = line.find("<text ", from);
  if (open == std::string::npos) {
    return false;
  }
  const auto close = line.find('>', open);
  const auto end = line.find("</text>", close);
  tag = line.substr(open, close + 1 - open);
  content = line.substr(close + 1, end - close - 1);
  return true;
}

// A <text> element's extent at the writer's glyph width, by its anchor.
text text_of(const std::string& element, const std::string& content) {
  const double x = attr(element, "x");
  const double w = trace::svg_char_width * static_cast<double>(content.size());
  const bool middle = element.find("text-anchor=\"middle\"") != std::string::npos;
  return {middle ? x - w / 2 : x, middle ? x + w / 2 : x + w, attr(element, "y"), content};
}

struct picture {
  double width = 0, height = 0;
  struct slice {
    box b;
    std::vector<text> label;  // none or one
    std::size_t digits;       // of the micro-batch at the end of its name: the shortest label it could have
  };
  std::vector<slice> slices;
  std::vector<text> texts;  // every other text: track names, ticks, legend
  std::vector<text> ticks;
  bool legend = false;
};

picture read(const std::string& svg) {
  picture p;
  const std::string head = svg.substr(0, svg.find('>'));
  p.width = attr(head, "width");
  p.height = attr(head, "height");
  std::string tag;
  std::string content;
  std::istringstream lines(svg);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("<g>", 0) == 0) {
      const auto r = line.find("<rect ");
      const std::string rect = line.substr(r, line.find("/>", r) - r);
      const box b{attr(rect, "x"), attr(rect, "y"), attr(rect, "width"), attr(rect, "height")};
      std::vector<text> label;
      if (next_text(line, tag, content)) {
        label.push_back(text_of(tag, content));
      }
      const auto title = line.find("<title>") + 7;
      const std::string name = line.substr(title, line.find("</title>") - title);
      const auto digits = name.size() - 1 - name.find_last_not_of("0123456789");
      p.slices.push_back({b, label, digits});
      continue;
    }
    p.legend = p.legend || line.find("class=\"key\"") != std::string::npos;
    if (next_text(line, tag, content)) {
      const text t = text_of(tag, content);
      p.texts.push_back(t);
      if (line.find("fill=\"#555\"") != std::string::npos && line.find("text-anchor") != std::string::npos) {
        p.ticks.push_back(t);
      }
    }
  }
  return p;
}

picture draw(pp::kind k, int ranks, int microbatches, int chunks = 2) {
  const auto s = pp::make_schedule(k, {.ranks = ranks, .microbatches = microbatches, .chunks = chunks});
  std::ostringstream out;
  trace::write_svg(pp::simulate(s, pp::costs::uniform({})).timeline(), out);
  return read(out.str());
}

// Labels inside their boxes, and a slice left unlabelled only where even its micro-batch alone would not fit.
void expect_readable(const picture& p, const std::string& what) {
  ASSERT_FALSE(p.slices.empty()) << what;
  EXPECT_TRUE(p.legend) << what;
  for (const auto& t : p.texts) {
    EXPECT_GE(t.left, 0) << what << ": '" << t.content << "' starts left of the picture";
    EXPECT_LE(t.right, p.width) << what << ": '" << t.content << "' ends right of the picture (" << p.width << ")";
    EXPECT_GE(t.y, 11) << what << ": '" << t.content << "' clipped at the top";
    EXPECT_LE(t.y, p.height) << what << ": '" << t.content << "' clipped at the bottom";
  }
  for (const auto& [b, label, digits] : p.slices) {
    EXPECT_LE(b.x + b.w, p.width + 0.01) << what;
    for (const auto& t : label) {
      EXPECT_GE(t.left, b.x) << what << ": label '" << t.content << "' leaves its box";
      EXPECT_LE(t.right, b.x + b.w) << what << ": label '" << t.content << "' leaves its box";
    }
    if (label.empty()) {
      EXPECT_LT(b.w, trace::svg_char_width * static_cast<double>(digits) + 2 * trace::svg_label_margin)
          << what << ": a label was dropped";
    }
  }
  ASSERT_GE(p.ticks.size(), 2U) << what;
  for (std::size_t i = 1; i < p.ticks.size(); ++i) {
    EXPECT_LT(p.ticks[i - 1].right, p.ticks[i].left)
        << what << ": ticks '" << p.ticks[i - 1].content << "' and '" << p.ticks[i].content << "' overlap";
  }
}

std::size_t labelled(const picture& p) {
  std::size_t n = 0;
  for (const auto& s : p.slices) {
    n += s.label.size();
  }
  return n;
}

const pp::kind all[] = {pp::kind::gpipe, pp::kind::one_f_one_b, pp::kind::interleaved,
                        pp::kind::zb_h1, pp::kind::zb_h2,       pp::kind::zb_v};

std::string name(pp::kind k, int p, int m) {
  return std::string(pp::kind_name(k)) + " " + std::to_string(p) + "x" + std::to_string(m);
}

}  // namespace

TEST(svg_geometry, small_pipelines_label_every_slice_and_clip_nothing) {
  for (const pp::kind k : all) {
    for (const auto& [p, m] : {std::pair{2, 4}, std::pair{4, 8}, std::pair{8, 64}}) {
      const picture pic = draw(k, p, m);
      expect_readable(pic, name(k, p, m));
      EXPECT_EQ(labelled(pic), pic.slices.size()) << name(k, p, m);
    }
  }
}

TEST(svg_geometry, at_32x256_labels_drop_only_where_they_do_not_fit) {
  for (const pp::kind k : {pp::kind::one_f_one_b, pp::kind::zb_v}) {
    const picture pic = draw(k, 32, 256);
    expect_readable(pic, name(k, 32, 256));
    if (k != pp::kind::zb_v) {  // zb-v's half-length chunks reach the width limit first
      EXPECT_EQ(labelled(pic), pic.slices.size()) << name(k, 32, 256);
    }
  }
}

TEST(svg_geometry, the_width_grows_with_the_schedule_up_to_the_limit) {
  const picture small = draw(pp::kind::one_f_one_b, 2, 4);
  const picture large = draw(pp::kind::one_f_one_b, 8, 64);
  const picture huge = draw(pp::kind::interleaved, 16, 128, 4);
  EXPECT_LE(small.width, 1400);
  EXPECT_GT(large.width, 2 * small.width);
  EXPECT_LE(huge.width, trace::svg_options{}.max_width + 400);
  EXPECT_GT(huge.width, trace::svg_options{}.max_width / 2);
}

TEST(svg_geometry, long_track_names_widen_their_column) {
  trace::timeline t;
  t.tracks = {"rank 0 (stages 0, 4, 8, 12, 16)", "r1"};
  t.events.push_back({0, "0F0", "F0", "F", 0, 1, {}});
  t.events.push_back({1, "1F0", "F0", "F", 1, 1, {}});
  t.events.push_back({1, "x", "", "custom", 2, 1000, {}});
  std::ostringstream out;
  trace::write_svg(t, out);
  const picture p = read(out.str());
  expect_readable(p, "long names");
  ASSERT_FALSE(p.slices.empty());
  EXPECT_GE(p.slices.front().b.x, trace::svg_char_width * 31);
  EXPECT_NE(out.str().find(">other</text>"), std::string::npos);
}

TEST(svg_geometry, bad_options_are_refused) {
  trace::timeline t;
  std::ostringstream out;
  EXPECT_THROW(trace::write_svg(t, out, {.width = 0}), taskpipe::invalid_argument);
  EXPECT_THROW(trace::write_svg(t, out, {.row_height = -1}), taskpipe::invalid_argument);
}
