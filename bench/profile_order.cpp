// The per-layer profile against a pipeline rank's order of the same work, in wall time and in thread CPU time: does a
// layer's F, I or W cost more when a rank runs it than when train::measure_layer_costs profiles it?
//
// train::measure_layer_costs runs each layer's F, I and W back to back on one probe micro-batch (a fresh copy of its
// input, a constant output gradient); a pipeline rank runs the F of every micro-batch through all its layers, then
// each micro-batch's I, then its W (the zero-bubble order; the activations of a micro-batch wait in memory between
// its passes). On the reference model (d 256, 6 layers, T 128), rows per micro-batch 4 and 1 (M = 4 and 16 of a batch
// of 16), the two orders run alternately, alone and with a second thread running the rank order alongside (the other
// rank of a 2-rank pipeline). Per pass kind: the median over --reps repetitions of the per-micro-batch time summed
// over the layers, both clocks, and rank / profile. A CPU-time ratio near 1 with a wall-time ratio away from it means
// the difference is scheduling (other processes took the core), not work the profile misses.
// Usage: profile_order [--reps N]   (default 7; the first repetition is a warm-up)
#include <cblas.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "taskpipe/nn/gpt2.hpp"

namespace {

using namespace taskpipe;

constexpr std::size_t seq = 128;
constexpr std::uint64_t seed = 7;

struct clocks {
  double wall = 0;
  double cpu = 0;
};

clocks now() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  return {wall, static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec)};
}

// F, I and W of one micro-batch, each summed over the layers.
using passes = std::array<clocks, 3>;

void add(clocks& to, clocks from, clocks until) {
  to.wall += until.wall - from.wall;
  to.cpu += until.cpu - from.cpu;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// One rank's layers (the whole model) and its micro-batch.
class rig {
 public:
  rig(const nn::gpt2_config& cfg, std::size_t rows) : m_rows(rows), m_tokens(rows * seq) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(cfg.layers) + 2; ++i) {
      m_layers.push_back(nn::make_layer(cfg, i, seed, &m_ledger));
    }
    for (std::size_t i = 0; i < m_tokens.size(); ++i) {
      m_tokens[i] = static_cast<std::int32_t>((i * 131 + 7) % static_cast<std::size_t>(cfg.vocab));
    }
  }

  // The profile's order: each layer's F, I and W back to back, on a copy of the previous layer's output.
  passes profile_order() {
    const nn::micro_batch mb = micro();
    passes out{};
    nn::tensor x;
    for (std::size_t i = 0; i < m_layers.size(); ++i) {
      nn::tensor input;
      if (!x.empty()) {
        input = nn::tensor(x.shape(), nn::memory_category::activations, &m_ledger, nn::uninitialized);
        std::copy(x.span().begin(), x.span().end(), input.span().begin());
      }
      const clocks t0 = now();
      auto r = m_layers[i]->forward(std::move(input), mb, nullptr);
      const clocks t1 = now();
      const bool last = i + 1 == m_layers.size();
      nn::tensor dy = last ? nn::tensor{} : nn::tensor(r.y.shape(), nn::memory_category::activations, &m_ledger);
      std::fill(dy.span().begin(), dy.span().end(), 1e-3F);
      const clocks t2 = now();
      m_layers[i]->backward_input(*r.state, std::move(dy), nullptr);
      const clocks t3 = now();
      m_layers[i]->backward_weight(*r.state, nullptr);
      const clocks t4 = now();
      add(out[0], t0, t1);
      add(out[1], t2, t3);
      add(out[2], t3, t4);
      x = std::move(r.y);
    }
    return out;
  }

  // A rank's zero-bubble order over `microbatches`: every F, then every I, then every W; per micro-batch averages.
  passes rank_order(int microbatches) {
    const nn::micro_batch mb = micro();
    const auto m = static_cast<std::size_t>(microbatches);
    std::vector<std::vector<std::unique_ptr<nn::layer_state>>> states(m);
    passes out{};
    const clocks t0 = now();
    for (auto& st : states) {
      nn::tensor x;
      for (auto& l : m_layers) {
        auto r = l->forward(std::move(x), mb, nullptr);
        st.push_back(std::move(r.state));
        x = std::move(r.y);
      }
    }
    const clocks t1 = now();
    for (auto& st : states) {
      nn::tensor dy;
      for (std::size_t i = m_layers.size(); i-- > 0;) {
        dy = m_layers[i]->backward_input(*st[i], std::move(dy), nullptr);
      }
    }
    const clocks t2 = now();
    for (auto& st : states) {
      for (std::size_t i = m_layers.size(); i-- > 0;) {
        m_layers[i]->backward_weight(*st[i], nullptr);
      }
      st.clear();
    }
    const clocks t3 = now();
    add(out[0], t0, t1);
    add(out[1], t1, t2);
    add(out[2], t2, t3);
    for (clocks& c : out) {
      c.wall /= static_cast<double>(m);
      c.cpu /= static_cast<double>(m);
    }
    return out;
  }

 private:
  nn::micro_batch micro() const { return {m_tokens, m_tokens, m_rows, seq, 1.0F / static_cast<float>(16 * seq), true}; }

  std::size_t m_rows;
  std::vector<std::int32_t> m_tokens;
  nn::memory_ledger m_ledger;
  std::vector<std::unique_ptr<nn::layer>> m_layers;
};

// [order][pass]: samples of one clock.
struct samples {
  std::array<std::array<std::vector<double>, 3>, 2> wall, cpu;
  void take(int order, const passes& p) {
    for (std::size_t k = 0; k < 3; ++k) {
      wall[static_cast<std::size_t>(order)][k].push_back(p[k].wall);
      cpu[static_cast<std::size_t>(order)][k].push_back(p[k].cpu);
    }
  }
};

void print(const char* label, std::size_t rows, int m, const samples& s) {
  constexpr std::array<char, 3> kinds{'F', 'I', 'W'};
  std::printf("rows %zu (M %2d), %-16s", rows, m, label);
  for (std::size_t k = 0; k < 3; ++k) {
    const double pw = median(s.wall[0][k]), rw = median(s.wall[1][k]);
    const double pc = median(s.cpu[0][k]), rc = median(s.cpu[1][k]);
    std::printf("  %c wall %6.2f/%6.2f (%.3f) cpu %6.2f/%6.2f (%.3f)", kinds[k], 1e3 * pw, 1e3 * rw, rw / pw, 1e3 * pc,
                1e3 * rc, rc / pc);
  }
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      reps = 0;
    }
    if (reps < 2) {
      std::fprintf(stderr, "profile_order: '%s' is not understood; usage: profile_order [--reps N], N >= 2\n",
                   a.c_str());
      return 2;
    }
  }
  openblas_set_num_threads(1);
  const nn::gpt2_config cfg = nn::preset("small");
  std::printf(
      "per micro-batch, summed over the layers, in ms: profile order / rank order (rank / profile); median of %d\n",
      reps - 1);
  for (const auto& [rows, m] : {std::pair<std::size_t, int>{4, 4}, {1, 16}}) {
    rig mine(cfg, rows);
    rig other(cfg, rows);
    samples alone, busy;
    for (int rep = 0; rep < reps; ++rep) {
      const passes pa = mine.profile_order();
      const passes ra = mine.rank_order(m);
      std::atomic<bool> stop{false};
      std::thread alongside([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          (void)other.rank_order(m);
        }
      });
      const passes pb = mine.profile_order();
      const passes rb = mine.rank_order(m);
      stop = true;
      alongside.join();
      if (rep > 0) {
        alone.take(0, pa);
        alone.take(1, ra);
        busy.take(0, pb);
        busy.take(1, rb);
      }
    }
    print("alone", rows, m, alone);
    print("1 rank alongside", rows, m, busy);
  }
  return 0;
}
