// The `taskpipe` command: subcommands register themselves on the CLI11 app; this file turns every failure into
// one line on stderr and an exit status (2 for bad input or an output that cannot be written, 1 for anything else).
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "bench_command.hpp"
#ifdef TASKPIPE_CLI_HAS_NN
#include "eval_command.hpp"
#include "generate_command.hpp"
#include "train_command.hpp"
#endif
#include "schedule_command.hpp"
#include "taskpipe/detail/quote.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/version.hpp"
#include "verdict_command.hpp"

namespace {

// Standard output is a file written like any other: a full disk or a closed pipe is reported, not an exit 0.
// fmt::print throws when a write fails; the stream's error flag tells that apart from other failures.
int stdout_failed(int err) {
  fmt::print(stderr, "taskpipe: error: cannot write standard output{}{}\n", err != 0 ? ": " : "",
             err != 0 ? std::strerror(err) : "");
  return 2;
}

// Under mpirun every rank parses the same flags and refuses the same way: only world rank 0 prints the one line
// (errors of a running job are printed by the rank that failed, in train_mpi.cpp).
bool silent_rank() {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  return rank != nullptr && std::string(rank) != "0";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"taskpipe: task parallelism and pipeline parallelism on one work-stealing runtime, measured.",
               "taskpipe"};
  app.set_version_flag("--version", std::string("taskpipe ") + taskpipe::version_string);
  app.require_subcommand(1);
  app.footer("Run `taskpipe <command> --help` for a command's options.");
  taskpipe::cli::add_bench_command(app);
  taskpipe::cli::add_schedule_command(app);
  taskpipe::cli::add_verdict_command(app);
#ifdef TASKPIPE_CLI_HAS_NN
  taskpipe::cli::add_train_command(app);
  taskpipe::cli::add_eval_command(app);
  taskpipe::cli::add_generate_command(app);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      const int rc = app.exit(e);
      errno = 0;
      return std::fflush(stdout) != 0 || std::ferror(stdout) != 0 ? stdout_failed(errno) : rc;
    }
    std::string what = e.what();
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && app.get_subcommands().empty()) {
      // CLI11 checks for the missing subcommand before it reports unknown arguments; name the real problem.
      const auto extra = app.remaining();
      what = extra.empty() ? "missing a command; try `taskpipe --help`"
                           : "unknown command or option '" + extra.front() + "'; try `taskpipe --help`";
    }
    // CLI11 quotes the command line as it is; escaped, a stray byte or newline cannot break the one line.
    if (!silent_rank()) {
      fmt::print(stderr, "taskpipe: error: {}\n", taskpipe::detail::quote(what, 300));
    }
    return 2;
  } catch (const taskpipe::error& e) {
    if (!silent_rank()) {
      fmt::print(stderr, "taskpipe: error: {}\n", e.what());
    }
    return 2;
  } catch (const std::exception& e) {
    if (std::ferror(stdout) != 0) {
      return stdout_failed(errno);
    }
    fmt::print(stderr, "taskpipe: internal error: {}\n", e.what());
    return 1;
  }
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    return stdout_failed(errno);
  }
  return 0;
}
