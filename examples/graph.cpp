// A task graph: load two inputs, combine them, report — built once, run three times, also as part of a bigger graph.
// Prints the Graphviz text of the graph; pipe it to `dot -Tsvg` to see it.
#include <taskpipe/taskpipe.hpp>

#include <cstdio>
#include <numeric>
#include <vector>

int main() {
  taskpipe::executor ex{{.workers = 2}};

  std::vector<int> left;
  std::vector<int> right;
  long total = 0;

  taskpipe::graph g{"combine"};
  auto load_left = g.emplace([&] { left.assign(1000, 1); }).name("load_left");
  auto load_right = g.emplace([&] { right.assign(1000, 2); }).name("load_right");
  auto combine = g.emplace([&] {
                    total +=
                        std::accumulate(left.begin(), left.end(), 0L) + std::accumulate(right.begin(), right.end(), 0L);
                  }).name("combine");
  combine.succeed(load_left, load_right);

  ex.run_n(g, 3).get();  // the same graph, three times in a row
  std::printf("total after 3 runs: %ld\n", total);

  taskpipe::graph outer{"outer"};
  auto before = outer.emplace([] { std::puts("before the module"); }).name("before");
  auto module = outer.composed_of(g);
  auto after = outer.emplace([&] { std::printf("after the module: %ld\n", total); }).name("after");
  before.precede(module);
  module.precede(after);
  ex.run(outer).get();

  std::fputs(g.dump_dot().c_str(), stdout);

  // A cycle is an error at run time, naming the tasks on it.
  taskpipe::graph bad{"bad"};
  auto a = bad.emplace([] {}).name("a");
  auto b = bad.emplace([] {}).name("b");
  a.precede(b);
  b.precede(a);
  try {
    ex.run(bad).get();
  } catch (const taskpipe::error& e) {
    std::printf("error: %s\n", e.what());
  }
  return total == 4L * 3000 ? 0 : 1;
}
