// The importer's handling of what real files hold: byte-order marks, CRLF line ends, binary bytes (shown escaped and
// short in the message), and files that cannot be read or written (the system's reason in the message).
#include <taskpipe/pp/generators.hpp>
#include <taskpipe/pp/notation.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace pp = taskpipe::pp;

namespace {

template <typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const taskpipe::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(notation_input, a_leading_byte_order_mark_and_crlf_import) {
  const pp::schedule s = pp::from_csv(
      "\xEF\xBB\xBF"
      "0F0,1F0,1B0,0B0\r\n");
  EXPECT_EQ(s.ranks, 1);
  EXPECT_EQ(s.stages, 2);
  EXPECT_EQ(s.orders[0].size(), 4U);
}

TEST(notation_input, odd_bytes_are_shown_escaped_and_short) {
  const std::string bom_inside = message_of([] {
    (void)pp::from_csv(
        "0F0,0B0\n\xEF\xBB\xBF"
        "1F0\n");
  });
  EXPECT_NE(bom_inside.find("row 2, cell 1: bad action '\\xEF\\xBB\\xBF1F0'"), std::string::npos) << bom_inside;
  std::string binary =
      "\x7F"
      "ELF";
  for (int i = 1; i < 256; ++i) {
    binary += static_cast<char>(i == ',' || i == '\n' ? 'x' : i);
  }
  const std::string what = message_of([&] { (void)pp::from_csv(binary); });
  EXPECT_NE(what.find("bad action '\\x7FELF\\x01\\x02"), std::string::npos) << what;
  EXPECT_LT(what.size(), 200U) << what;
  for (const char c : what) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "unescaped byte " << static_cast<int>(static_cast<unsigned char>(c));
  }
}

TEST(notation_input, files_that_cannot_be_read_or_written_say_why) {
  EXPECT_NE(message_of([] { (void)pp::load_csv("/nonexistent/x.csv"); }).find("No such file or directory"),
            std::string::npos);
  EXPECT_NE(message_of([] { (void)pp::load_csv("/"); }).find("Is a directory"), std::string::npos);
  EXPECT_NE(message_of([] { (void)pp::load_csv("/dev/zero"); }).find("larger than 64 MiB"), std::string::npos);
  const auto s = pp::make_schedule(pp::kind::one_f_one_b, {.ranks = 2, .microbatches = 2});
  EXPECT_NE(message_of([&] { pp::save_csv(s, "/dev/full"); }).find("'/dev/full': No space left on device"),
            std::string::npos);
  EXPECT_NE(message_of([&] { pp::save_csv(s, ""); }).find("the file name is empty"), std::string::npos);
  const std::string path = testing::TempDir() + "notation_input_nul.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string("0F0\0", 4);
  }
  EXPECT_NE(message_of([&] { (void)pp::load_csv(path); }).find("holds NUL bytes"), std::string::npos);
  std::remove(path.c_str());
}
