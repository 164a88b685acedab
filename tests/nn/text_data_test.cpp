// The byte-level loader: the sequential order of point 7, wrapping, the split, shuffled windows, the corpus order.
#include "taskpipe/nn/text_data.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "taskpipe/error.hpp"

#include <unistd.h>

namespace nn = taskpipe::nn;

namespace {

std::vector<std::uint8_t> iota_bytes(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::uint8_t>(i % 251);
  }
  return v;
}

}  // namespace

TEST(batch_loader, step_s_reads_from_offset_s_times_bt_and_wraps_when_too_few_remain) {
  const std::vector<std::uint8_t> data = iota_bytes(50);
  const int b = 2;
  const int t = 4;  // B*T = 8; windows of 9 fit at 0, 8, ..., 40 (40 + 9 = 49 <= 50), then restart at 0
  nn::batch_loader loader(data, b, t);
  std::vector<std::int32_t> x, y;
  std::size_t expected_start = 0;
  for (int s = 0; s < 14; ++s) {
    loader.next(x, y);
    ASSERT_EQ(x.size(), 8U);
    for (int row = 0; row < b; ++row) {
      for (int i = 0; i < t; ++i) {
        const std::size_t at = expected_start + static_cast<std::size_t>(row * t + i);
        EXPECT_EQ(x[static_cast<std::size_t>(row * t + i)], data[at]) << "step " << s;
        EXPECT_EQ(y[static_cast<std::size_t>(row * t + i)], data[at + 1]) << "step " << s;
      }
    }
    expected_start += 8;
    if (expected_start + 9 > data.size()) {
      expected_start = 0;
    }
  }
  EXPECT_EQ(loader.state().position, expected_start);
}

TEST(batch_loader, a_restored_state_continues_exactly) {
  const std::vector<std::uint8_t> data = iota_bytes(300);
  for (const bool shuffle : {false, true}) {
    nn::batch_loader a(data, 3, 5, shuffle, 99);
    std::vector<std::int32_t> x, y, x2, y2;
    for (int s = 0; s < 7; ++s) {
      a.next(x, y);
    }
    nn::batch_loader b(data, 3, 5, shuffle, 12345);
    b.set_state(a.state());
    for (int s = 0; s < 20; ++s) {
      a.next(x, y);
      b.next(x2, y2);
      EXPECT_EQ(x, x2);
      EXPECT_EQ(y, y2);
    }
  }
}

TEST(batch_loader, shuffled_windows_are_reproducible_in_range_and_differ_by_seed) {
  const std::vector<std::uint8_t> data = iota_bytes(1000);
  nn::batch_loader a(data, 4, 8, true, 1);
  nn::batch_loader b(data, 4, 8, true, 1);
  nn::batch_loader c(data, 4, 8, true, 2);
  std::vector<std::int32_t> xa, ya, xb, yb, xc, yc;
  std::set<std::int32_t> firsts;
  bool differs = false;
  for (int s = 0; s < 50; ++s) {
    a.next(xa, ya);
    b.next(xb, yb);
    c.next(xc, yc);
    EXPECT_EQ(xa, xb);
    differs = differs || xa != xc;
    for (std::size_t i = 0; i < xa.size(); ++i) {
      EXPECT_EQ(ya[i], (xa[i] + 1) % 251) << "targets are the inputs shifted by one";
    }
    firsts.insert(xa[0]);
  }
  EXPECT_TRUE(differs);
  EXPECT_GT(firsts.size(), 20U);  // windows really move
}

TEST(splitmix64, gives_the_published_sequence) {
  nn::splitmix64 r(0);  // the reference implementation's first outputs from seed 0
  EXPECT_EQ(r.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(r.next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(r.next(), 0x06c45d188009454fULL);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_LT(r.below(7), 7U);
  }
}

TEST(split, keeps_the_last_fraction_for_validation) {
  const std::vector<std::uint8_t> data = iota_bytes(105);
  const nn::text_split s = nn::split(data, 0.1);
  EXPECT_EQ(s.train.size(), 95U);
  EXPECT_EQ(s.validation.size(), 10U);
  EXPECT_EQ(s.validation.data(), data.data() + 95);
  EXPECT_EQ(nn::split(data, 0).validation.size(), 0U);
  EXPECT_THROW(nn::split(data, 1.0), taskpipe::invalid_argument);
  EXPECT_THROW(nn::split(data, -0.5), taskpipe::invalid_argument);
}

TEST(batch_loader, refuses_data_too_short_for_one_batch) {
  const std::vector<std::uint8_t> data = iota_bytes(16);
  EXPECT_THROW(nn::batch_loader(data, 2, 8), taskpipe::invalid_argument);  // needs 17
  EXPECT_NO_THROW(nn::batch_loader(iota_bytes(17), 2, 8));
  EXPECT_THROW(nn::batch_loader(data, 0, 8), taskpipe::invalid_argument);
}

TEST(read_text_file, refuses_a_missing_or_empty_file) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto empty = dir / ("taskpipe_empty_" + std::to_string(::getpid()));
  std::ofstream(empty).close();
  EXPECT_THROW(nn::read_text_file(empty), taskpipe::invalid_argument);
  EXPECT_THROW(nn::read_text_file(dir / "taskpipe_no_such_file_here"), taskpipe::invalid_argument);
  std::filesystem::remove(empty);
}

TEST(fortunes, the_corpus_is_the_plain_files_sorted_by_name_without_indexes_or_links) {
  const std::filesystem::path d =
      std::filesystem::temp_directory_path() / ("taskpipe_fortunes_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d / "off");
  for (const char* name : {"zeta", "alpha", "Beta"}) {
    std::ofstream(d / name) << name << "\n";
  }
  std::ofstream(d / "alpha.dat") << "index";
  std::ofstream(d / "off" / "rude") << "no";
  std::filesystem::create_symlink("alpha", d / "alpha.u8");
  std::filesystem::create_symlink("zeta", d / "link");
  const std::vector<std::uint8_t> text = nn::read_fortunes(d);
  EXPECT_EQ(std::string(text.begin(), text.end()), "Beta\nalpha\nzeta\n");
  std::filesystem::remove_all(d);
  EXPECT_THROW(nn::read_fortunes(d), taskpipe::invalid_argument);
}

TEST(fortunes, the_installed_package_gives_a_nonempty_corpus) {
  if (!std::filesystem::exists(nn::fortunes_directory)) {
    GTEST_SKIP() << "Debian's fortunes package is not installed";
  }
  const auto files = nn::fortunes_files();
  ASSERT_FALSE(files.empty());
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  EXPECT_GT(nn::read_fortunes().size(), 100000U);
}
