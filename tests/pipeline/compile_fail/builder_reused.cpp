// Must not compile: a builder kept in a variable and stepped twice would make a second chain that starts with a
// middle stage (its source already moved into the first chain).
#include <optional>

#include "taskpipe/pipeline/pipeline.hpp"

int main() {
  taskpipe::executor ex{{.workers = 1}};
  auto b = taskpipe::pipeline{ex}.source([]() -> std::optional<int> { return std::nullopt; });
  auto first = b.stage(taskpipe::parallel, [](int i) { return i + 1; });
  auto second = b.stage(taskpipe::parallel, [](int i) { return i + 2; });
}
