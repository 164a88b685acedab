// taskpipe/taskpipe.hpp — everything taskpipe offers, in one include.
#pragma once

#include "taskpipe/error.hpp"
#include "taskpipe/pipeline/pipeline.hpp"
#include "taskpipe/pipeline/pipeline_options.hpp"
#include "taskpipe/pipeline/pipeline_stats.hpp"
#include "taskpipe/pipeline/stage_mode.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/future.hpp"
#include "taskpipe/runtime/stop_token.hpp"
#include "taskpipe/runtime/task_group.hpp"
#include "taskpipe/version.hpp"
