#include <taskpipe/trace/chrome_trace.hpp>
#include <taskpipe/trace/svg.hpp>
#include <taskpipe/trace/write_file.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace trace = taskpipe::trace;

namespace {

std::string message_of(const std::string& path) {
  try {
    trace::write_file(path, "some text", "test file");
  } catch (const taskpipe::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(write_file, writes_the_whole_content) {
  const std::string path = testing::TempDir() + "write_file_test.txt";
  const std::string content(200000, 'x');
  trace::write_file(path, content, "test file");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream back;
  back << in.rdbuf();
  EXPECT_EQ(back.str(), content);
  std::remove(path.c_str());
}

TEST(write_file, every_failure_names_the_file_and_the_reason) {
  // /dev/full accepts the open and fails the flush: the buffered write alone would not notice.
  EXPECT_EQ(message_of("/dev/full"), "cannot write test file '/dev/full': No space left on device");
  EXPECT_EQ(message_of("/nonexistent/dir/f"),
            "cannot create test file '/nonexistent/dir/f': No such file or directory");
  EXPECT_EQ(message_of(""), "cannot write test file: the file name is empty");
  EXPECT_EQ(message_of("bad\nname/x"), "cannot create test file 'bad\\x0Aname/x': No such file or directory");
  trace::timeline t;
  t.tracks = {"rank 0"};
  EXPECT_THROW(trace::write_svg(t, "/dev/full"), taskpipe::error);
  EXPECT_THROW(trace::write_chrome(t, "/dev/full"), taskpipe::error);
}
