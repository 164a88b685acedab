#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/simulate.hpp>
#include <taskpipe/trace/chrome_trace.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

namespace pp = taskpipe::pp;
namespace trace = taskpipe::trace;

TEST(chrome_trace, a_simulated_schedule_reads_back_with_one_slice_per_action) {
  const auto s = pp::make_schedule(pp::kind::zb_h1, {.ranks = 4, .microbatches = 8});
  const auto sim = pp::simulate(s, pp::costs::uniform({.f = 2, .b = 3, .w = 1}));
  auto t = sim.timeline();
  t.microseconds_per_unit = 1000;
  std::ostringstream out;
  trace::write_chrome(t, out);
  const auto json = nlohmann::json::parse(out.str());
  std::map<int, std::string> track_names;
  std::size_t slices = 0;
  for (const auto& e : json.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name") {
      track_names[e.at("tid").get<int>()] = e.at("args").at("name").get<std::string>();
    }
    if (e.at("ph") != "X") {
      continue;
    }
    ++slices;
    const auto a = pp::parse_action(e.at("name").get<std::string>());
    EXPECT_EQ(e.at("tid").get<int>(), s.rank_of(a.stage));
    EXPECT_EQ(e.at("cat").get<std::string>(), std::string(1, pp::kind_letter(a.kind)));
    EXPECT_EQ(e.at("args").at("microbatch").get<int>(), a.microbatch);
    EXPECT_NEAR(e.at("dur").get<double>(), 1000 * pp::costs::uniform({.f = 2, .b = 3, .w = 1}).duration(a), 1e-3);
  }
  EXPECT_EQ(slices, s.action_count());
  EXPECT_EQ(track_names.size(), 4U);
  EXPECT_EQ(track_names[3], "rank 3");
}

TEST(chrome_trace, names_are_escaped) {
  trace::timeline t;
  t.tracks = {"a \"quoted\"\\ track\n"};
  t.events.push_back({0, "x\ty", "", "cat", 0, 1, {}});
  std::ostringstream out;
  trace::write_chrome(t, out);
  const auto json = nlohmann::json::parse(out.str());
  bool found = false;
  for (const auto& e : json.at("traceEvents")) {
    if (e.at("name") == "thread_name") {
      found = e.at("args").at("name") == "a \"quoted\"\\ track\n";
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(trace::json_quote(std::string("\x01", 1)), "\"\\u0001\"");
}

TEST(chrome_trace, writes_a_file_and_reports_an_unwritable_path) {
  trace::timeline t;
  t.tracks = {"rank 0"};
  const std::string path = ::testing::TempDir() + "chrome_trace_test.json";
  trace::write_chrome(t, path);
  std::ifstream in(path);
  const auto parsed = nlohmann::json::parse(in);
  EXPECT_TRUE(parsed.contains("traceEvents"));
  EXPECT_THROW(trace::write_chrome(t, "/nonexistent-dir/x.json"), taskpipe::error);
}
