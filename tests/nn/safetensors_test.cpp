// safetensors: the byte layout, a round trip through a file, atomic and checked writes, and the refusal of every
// kind of broken file with a message that names the problem.
#include "taskpipe/nn/safetensors.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "taskpipe/error.hpp"

namespace nn = taskpipe::nn;

namespace {

std::vector<std::uint8_t> header_only(const std::string& json, std::size_t data_bytes = 0) {
  std::vector<std::uint8_t> out(8 + json.size() + data_bytes, 0);
  const std::uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, json.data(), json.size());
  return out;
}

// Decoding `bytes` throws a taskpipe::error whose one-line message contains `needle`.
void expect_refused(const std::vector<std::uint8_t>& bytes, const std::string& needle) {
  try {
    nn::decode_safetensors(bytes, "file.safetensors");
    ADD_FAILURE() << "accepted a file that should be refused for: " << needle;
  } catch (const taskpipe::error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()));
}

}  // namespace

TEST(safetensors, encodes_the_documented_layout) {
  const std::vector<float> a{1, 2, 3, 4, 5, 6};
  const std::vector<nn::safetensors_view> views{{"a", {2, 3}, a}};
  const std::vector<std::uint8_t> bytes = nn::encode_safetensors(views, {{"k", "v"}});
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0U);
  ASSERT_EQ(bytes.size(), 8 + n + 24);
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  EXPECT_NE(header.find(R"("a":{"data_offsets":[0,24],"dtype":"F32","shape":[2,3]})"), std::string::npos) << header;
  EXPECT_NE(header.find(R"("__metadata__":{"k":"v"})"), std::string::npos) << header;
  float third = 0;
  std::memcpy(&third, bytes.data() + 8 + n + 8, 4);
  EXPECT_EQ(third, 3.0F);
}

TEST(safetensors, round_trips_through_a_file_bit_for_bit) {
  std::vector<float> a(12), b(5), empty;
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i) * 0.37F - 1.0F;
  }
  b = {-0.0F, 1e-38F, 3.4e38F, 1.5F, -2.25F};
  const std::vector<nn::safetensors_view> views{{"h.0.w", {3, 4}, a}, {"bias", {5}, b}, {"none", {0, 7}, empty}};
  const auto path = temp_path("taskpipe_st_roundtrip").string();
  nn::write_safetensors(path, views, {{"n_layer", "6"}, {"step", "12"}});
  const nn::safetensors_file f = nn::read_safetensors(path);
  EXPECT_EQ(f.metadata.at("n_layer"), "6");
  EXPECT_EQ(f.metadata.at("step"), "12");
  ASSERT_EQ(f.tensors.size(), 3U);
  EXPECT_EQ(f.tensors.at("h.0.w").shape, (std::vector<std::size_t>{3, 4}));
  EXPECT_EQ(std::memcmp(f.tensors.at("h.0.w").data.data(), a.data(), a.size() * 4), 0);
  EXPECT_EQ(std::memcmp(f.tensors.at("bias").data.data(), b.data(), b.size() * 4), 0);
  EXPECT_TRUE(f.tensors.at("none").data.empty());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
  std::filesystem::remove(path);
}

TEST(safetensors, refuses_a_truncated_file) {
  const std::vector<float> a{1, 2, 3, 4};
  const std::vector<nn::safetensors_view> views{{"a", {4}, a}};
  std::vector<std::uint8_t> bytes = nn::encode_safetensors(views, {});
  expect_refused({bytes.begin(), bytes.begin() + 5}, "truncated");
  expect_refused({bytes.begin(), bytes.begin() + 20}, "truncated: the header claims");
  expect_refused({bytes.begin(), bytes.end() - 4}, "out of range");
}

TEST(safetensors, refuses_a_header_that_is_not_the_json_described) {
  expect_refused(header_only("{\"a\": {\"dtype\": "), "not valid JSON");
  expect_refused(header_only("[1, 2]"), "not a JSON object");
  expect_refused(header_only(R"({"a": {"dtype": "F32", "shape": [1]}})"), "lacks dtype, shape or data_offsets");
  expect_refused(header_only(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4), "shape");
  expect_refused(header_only(R"({"__metadata__": {"k": 1}})"), "not a string");
  std::vector<std::uint8_t> huge(16, 0xff);
  expect_refused(huge, "100 MB");
}

TEST(safetensors, refuses_a_dtype_other_than_f32) {
  expect_refused(header_only(R"({"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", 4),
                 "has dtype F16; only F32");
}

TEST(safetensors, refuses_offsets_out_of_range_mismatched_overlapping_or_with_gaps) {
  expect_refused(header_only(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 80]}})", 8), "out of range");
  expect_refused(header_only(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 8), "out of range");
  expect_refused(header_only(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8), "needs 12");
  expect_refused(header_only(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                             12),
                 "overlap");
  expect_refused(header_only(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8),
                 "belong to no tensor");
  expect_refused(header_only(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8),
                 "after the last tensor");
}

TEST(safetensors, a_write_to_a_missing_directory_or_a_full_device_fails_and_leaves_no_file) {
  const std::vector<float> a{1, 2};
  const std::vector<nn::safetensors_view> views{{"a", {2}, a}};
  EXPECT_THROW(nn::write_safetensors("/nonexistent_dir_taskpipe/x.safetensors", views, {}), taskpipe::error);
  if (std::filesystem::exists("/dev/full")) {
    try {
      nn::write_safetensors("/dev/full", views, {});
      ADD_FAILURE() << "writing to /dev/full succeeded";
    } catch (const taskpipe::error& e) {
      EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(std::filesystem::is_character_file("/dev/full"));  // written in place, never replaced
  }
  EXPECT_THROW(nn::read_safetensors("/nonexistent_dir_taskpipe/x.safetensors"), taskpipe::error);
}

TEST(safetensors, an_atomic_write_replaces_the_old_file_whole) {
  const auto path = temp_path("taskpipe_st_replace").string();
  const std::vector<float> a{1, 2}, b{3, 4, 5};
  nn::write_safetensors(path, std::vector<nn::safetensors_view>{{"a", {2}, a}}, {});
  nn::write_safetensors(path, std::vector<nn::safetensors_view>{{"b", {3}, b}}, {});
  const nn::safetensors_file f = nn::read_safetensors(path);
  EXPECT_EQ(f.tensors.count("a"), 0U);
  EXPECT_EQ(f.tensors.at("b").data, b);
  std::filesystem::remove(path);
}

TEST(safetensors, refuses_to_write_bad_views) {
  const std::vector<float> a{1, 2};
  EXPECT_THROW(nn::encode_safetensors(std::vector<nn::safetensors_view>{{"a", {3}, a}}, {}),
               taskpipe::invalid_argument);
  EXPECT_THROW(nn::encode_safetensors(std::vector<nn::safetensors_view>{{"a", {2}, a}, {"a", {2}, a}}, {}),
               taskpipe::invalid_argument);
  EXPECT_THROW(nn::encode_safetensors(std::vector<nn::safetensors_view>{{"__metadata__", {2}, a}}, {}),
               taskpipe::invalid_argument);
}
