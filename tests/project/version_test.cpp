#include <gtest/gtest.h>

#include <string>

#include "taskpipe/version.hpp"

TEST(version, header_matches_cmake_project_version) {
  EXPECT_EQ(std::string(taskpipe::version_string), TASKPIPE_CMAKE_VERSION);
}
