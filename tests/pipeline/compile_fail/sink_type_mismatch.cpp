// Must not compile: the sink takes a std::string, the stage before it produces double.
#include <optional>
#include <string>

#include "taskpipe/pipeline/pipeline.hpp"

int main() {
  taskpipe::executor ex{{.workers = 1}};
  taskpipe::pipeline{ex}
      .source([]() -> std::optional<int> { return std::nullopt; })
      .stage(taskpipe::parallel, [](int i) { return i * 0.5; })
      .sink(taskpipe::serial_in_order, [](std::string) {})
      .run();
}
