// A graph whose shape is laid down before its work is known: placeholders chained with linearize, their work set
// afterwards (e.g. once a configuration is read), then run. A placeholder left without work runs nothing.
#include <taskpipe/taskpipe.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main() {
  taskpipe::executor ex{{.workers = 2}};
  taskpipe::graph g{"steps"};

  // The shape first: five steps in a row, and a fork/join of four shards between steps 2 and 3.
  std::vector<taskpipe::task_handle> steps;
  steps.reserve(5);
  for (int i = 0; i < 5; ++i) {
    steps.push_back(g.placeholder().name("step " + std::to_string(i)));
  }
  g.linearize(steps);
  std::vector<long> shard_sums(4, 0);
  for (std::size_t s = 0; s < shard_sums.size(); ++s) {
    auto shard = g.emplace([&shard_sums, s] {
      for (long v = 0; v < 1000; ++v) {
        shard_sums[s] += v * static_cast<long>(s + 1);
      }
    });
    steps[2].precede(shard);
    shard.precede(steps[3]);
  }

  // The work later. Step 4 is left empty: it is only the point where the graph ends.
  std::vector<int> ran;
  for (int i = 0; i < 4; ++i) {
    steps[static_cast<std::size_t>(i)].work([&ran, i] { ran.push_back(i); });
  }
  steps[3].work([&] {
    long total = 0;
    for (const long v : shard_sums) {
      total += v;
    }
    std::printf("shards done, total %ld\n", total);
    ran.push_back(3);
  });

  ex.run(g).get();
  std::printf("steps ran in order:");
  for (const int i : ran) {
    std::printf(" %d", i);
  }
  std::printf(" (step 4 has no work: %s)\n", steps[4].has_work() ? "no" : "yes");
  return ran == std::vector<int>{0, 1, 2, 3} ? 0 : 1;
}
