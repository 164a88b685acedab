// Must not compile: a middle stage must return the item for the next stage.
#include <optional>

#include "taskpipe/pipeline/pipeline.hpp"

int main() {
  taskpipe::executor ex{{.workers = 1}};
  taskpipe::pipeline{ex}
      .source([]() -> std::optional<int> { return std::nullopt; })
      .stage(taskpipe::parallel, [](int) {})
      .sink(taskpipe::serial_in_order, [](int) {})
      .run();
}
