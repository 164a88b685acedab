// common/strategy_name.hpp — the name GoogleTest gives a test instance parameterised by a pipeline execution strategy
// ("token", "pinned", "farm"), shared by the pipeline tests that run every strategy.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "taskpipe/pipeline/pipeline_options.hpp"

namespace taskpipe::test {

inline std::string strategy_name(const ::testing::TestParamInfo<execution_strategy>& i) {
  return std::string(to_string(i.param));
}

}  // namespace taskpipe::test
