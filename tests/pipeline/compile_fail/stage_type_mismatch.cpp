// Must not compile: the stage takes a std::string, the source produces int.
#include <optional>
#include <string>

#include "taskpipe/pipeline/pipeline.hpp"

int main() {
  taskpipe::executor ex{{.workers = 1}};
  taskpipe::pipeline{ex}
      .source([]() -> std::optional<int> { return std::nullopt; })
      .stage(taskpipe::parallel, [](const std::string& s) { return s.size(); })
      .sink(taskpipe::serial_in_order, [](std::size_t) {})
      .run();
}
