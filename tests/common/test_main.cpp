// The test binaries' main: GoogleTest plus a watchdog that fails a test which runs past its time budget, so a hang
// shows up as a named failure instead of a stuck CI job. Budget: TASKPIPE_TEST_BUDGET_S seconds (default 120).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {

class watchdog : public testing::EmptyTestEventListener {
 public:
  explicit watchdog(std::chrono::seconds budget) : budget_(budget), thread_([this] { run(); }) {}
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog() override {
    {
      const std::lock_guard lock{mutex_};
      quit_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  void OnTestStart(const testing::TestInfo& info) override {
    const std::lock_guard lock{mutex_};
    name_ = std::string(info.test_suite_name()) + "." + info.name();
    deadline_ = std::chrono::steady_clock::now() + budget_;
    armed_ = true;
    changed_.notify_all();
  }

  void OnTestEnd(const testing::TestInfo& /*info*/) override {
    const std::lock_guard lock{mutex_};
    armed_ = false;
    changed_.notify_all();
  }

 private:
  void run() {
    std::unique_lock lock{mutex_};
    while (!quit_) {
      if (!armed_) {
        changed_.wait(lock);
        continue;
      }
      if (changed_.wait_until(lock, deadline_) == std::cv_status::timeout && armed_ && !quit_ &&
          std::chrono::steady_clock::now() >= deadline_) {
        std::fprintf(stderr, "\nFAILED: %s ran longer than its %llds budget (a hang?)\n", name_.c_str(),
                     static_cast<long long>(budget_.count()));
        std::fflush(stderr);
        std::_Exit(3);
      }
    }
  }

  std::chrono::seconds budget_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string name_;
  std::chrono::steady_clock::time_point deadline_{};
  bool armed_ = false;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  long budget = 120;
  if (const char* env = std::getenv("TASKPIPE_TEST_BUDGET_S")) {
    budget = std::strtol(env, nullptr, 10);
  }
  testing::UnitTest::GetInstance()->listeners().Append(new watchdog(std::chrono::seconds(budget)));
  return RUN_ALL_TESTS();
}
