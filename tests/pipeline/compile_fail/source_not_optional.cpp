// Must not compile: a source returns std::optional<T>, not T.
#include "taskpipe/pipeline/pipeline.hpp"

int main() {
  taskpipe::executor ex{{.workers = 1}};
  taskpipe::pipeline{ex}.source([] { return 1; }).sink(taskpipe::serial_in_order, [](int) {}).run();
}
