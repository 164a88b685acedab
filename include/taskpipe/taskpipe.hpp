// taskpipe/taskpipe.hpp — everything taskpipe offers, in one include.
#pragma once

#include "taskpipe/algorithm/parallel_for.hpp"
#include "taskpipe/algorithm/parallel_reduce.hpp"
#include "taskpipe/algorithm/parallel_scan.hpp"
#include "taskpipe/algorithm/parallel_sort.hpp"
#include "taskpipe/algorithm/partitioner.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/graph/dependent_async.hpp"
#include "taskpipe/graph/graph.hpp"
#include "taskpipe/runtime/executor.hpp"
#include "taskpipe/runtime/future.hpp"
#include "taskpipe/runtime/stop_token.hpp"
#include "taskpipe/runtime/task_group.hpp"
#include "taskpipe/version.hpp"
