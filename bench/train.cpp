// Training speed of the GPT-2 model (a plain program, not Google Benchmark: one step is far longer than its timer).
//
// In one run:
//  1. GEMM efficiency: every linear map of one training step of the reference configuration (c_attn, attn.c_proj,
//     mlp.c_fc, mlp.c_proj per block, and the tied LM head), each pass (F: y = x·W, B: dx = dy·Wᵀ, W: dW += xᵀ·dy)
//     run through the model's own op (taskpipe/nn/linear.hpp, serial) against cblas_sgemm alone on the same shape
//     and transposes, OpenBLAS single-threaded. Efficiency = Σ cblas time / Σ op time over the step's GEMMs, each
//     weighted by how often a step runs it (the blocks' by the layer count). The ops include their bias add / bias
//     gradient, which cblas alone does not. Attention's per-head GEMMs (fused with the softmax) are not counted.
//  2. Step time: forward + backward + clip_grad_norm + AdamW on the reference configuration (d 256, 6 layers,
//     8 heads, T 128, batch 8, byte vocabulary), median of --steps steps after --warmup, at each --threads count
//     (1 = serial; N = the ops task-parallel on an executor of N workers), and the speed-up over the first count.
// Usage: train [--steps N (>= 10 for a report)] [--warmup N] [--threads 1,2] [--reps N] [--layers L] [--json]
// Run briefly: `build/bench/bench/train --steps 3 --warmup 1 --reps 3`. PyTorch's figures: bench/torch_gpt2.py.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "taskpipe/nn/adamw.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/nn/linear.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace nn = taskpipe::nn;

namespace {

struct options {
  int steps = 10;
  int warmup = 3;
  int reps = 7;
  int layers = 6;
  std::vector<int> threads{1, 2};
  bool json = false;
};

double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::vector<float> filled(std::size_t n, float scale) {
  std::vector<float> v(n);
  std::uint32_t s = 12345;
  for (float& x : v) {
    s = s * 1664525U + 1013904223U;
    x = scale * (static_cast<float>(s >> 8U) / 16777216.0F - 0.5F);
  }
  return v;
}

struct gemm_case {
  std::string name;
  char pass;
  bool head;  // the tied LM head: W is [vocab, embd], used transposed
  nn::linear_dims d;
  int per_step;
};

struct gemm_result {
  gemm_case c;
  double op_s;
  double blas_s;
};

// Times the model's op and cblas_sgemm alone on one case, alternating them, median of `reps` after one warm-up each.
gemm_result time_case(const gemm_case& c, int reps) {
  const std::size_t rows = c.d.rows, in = c.d.in, out = c.d.out;
  const std::vector<float> x = filled(rows * in, 1), w = filled(in * out, 0.1F), dy = filled(rows * out, 1);
  std::vector<float> b(out, 0.01F), y(rows * out), dx(rows * in), dw(in * out), db(out);
  const auto ci = [](std::size_t v) { return static_cast<int>(v); };
  std::function<void()> op, blas;
  if (!c.head) {
    if (c.pass == 'F') {
      op = [&] { nn::linear_forward(x, w, b, y, c.d); };
      blas = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ci(rows), ci(out), ci(in), 1, x.data(), ci(in), w.data(),
                    ci(out), 0, y.data(), ci(out));
      };
    } else if (c.pass == 'B') {
      op = [&] { nn::linear_backward_input(dy, w, dx, c.d, false); };
      blas = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ci(rows), ci(in), ci(out), 1, dy.data(), ci(out), w.data(),
                    ci(out), 0, dx.data(), ci(in));
      };
    } else {
      op = [&] { nn::linear_backward_weight(x, dy, dw, db, c.d); };
      blas = [&] {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ci(in), ci(out), ci(rows), 1, x.data(), ci(in), dy.data(),
                    ci(out), 1, dw.data(), ci(out));
      };
    }
  } else {  // wte is [out = vocab, in = embd]
    if (c.pass == 'F') {
      op = [&] { nn::tied_head_forward(x, w, y, c.d); };
      blas = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ci(rows), ci(out), ci(in), 1, x.data(), ci(in), w.data(),
                    ci(in), 0, y.data(), ci(out));
      };
    } else if (c.pass == 'B') {
      op = [&] { nn::tied_head_backward_input(dy, w, dx, c.d); };
      blas = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ci(rows), ci(in), ci(out), 1, dy.data(), ci(out),
                    w.data(), ci(in), 0, dx.data(), ci(in));
      };
    } else {
      op = [&] { nn::tied_head_backward_weight(x, dy, dw, c.d); };
      blas = [&] {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ci(out), ci(in), ci(rows), 1, dy.data(), ci(out), x.data(),
                    ci(in), 1, dw.data(), ci(in));
      };
    }
  }
  op();
  blas();
  std::vector<double> t_op, t_blas;
  for (int r = 0; r < reps; ++r) {
    t_op.push_back(seconds_of(op));
    t_blas.push_back(seconds_of(blas));
  }
  return {c, median(t_op), median(t_blas)};
}

struct step_result {
  int threads;
  double median_s;
  double min_s;
  float last_loss;
};

step_result time_steps(const nn::gpt2_config& cfg, int batch, int seq, int threads, const options& o) {
  nn::gpt2 model(cfg, 0);
  const std::vector<nn::parameter*> params = model.parameters();
  nn::adamw opt(params, {});
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(batch * seq)), targets(tokens.size());
  std::uint32_t s = 7;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    s = s * 1664525U + 1013904223U;
    tokens[i] = static_cast<std::int32_t>(s >> 24U);
    targets[i] = static_cast<std::int32_t>((s >> 16U) & 0xffU);
  }
  std::unique_ptr<taskpipe::executor> ex;
  if (threads > 1) {
    ex = std::make_unique<taskpipe::executor>(taskpipe::executor_options{.workers = static_cast<std::size_t>(threads)});
  }
  std::vector<double> times;
  float loss = 0;
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    const double t = seconds_of([&] {
      loss = model.forward_backward(tokens, targets, batch, seq, ex.get());
      nn::clip_grad_norm(params, 1.0);
      opt.step(3e-4);
    });
    if (i >= o.warmup) {
      times.push_back(t);
    }
  }
  return {threads, median(times), *std::min_element(times.begin(), times.end()), loss};
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "train: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--steps") {
      o.steps = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--warmup") {
      o.warmup = std::max(0, std::atoi(value().c_str()));
    } else if (a == "--reps") {
      o.reps = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--layers") {
      o.layers = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--threads") {
      o.threads.clear();
      const std::string list = value();
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        o.threads.push_back(std::max(1, std::atoi(list.substr(at, comma - at).c_str())));
        at = comma + 1;
      }
    } else if (a == "--json") {
      o.json = true;
    } else {
      std::fprintf(stderr, "usage: train [--steps N] [--warmup N] [--reps N] [--layers L] [--threads 1,2] [--json]\n");
      std::exit(a == "--help" ? 0 : 2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  openblas_set_num_threads(1);
  nn::gpt2_config cfg = nn::preset("small");
  cfg.layers = o.layers;
  const int batch = 8;
  const int seq = 128;
  const std::size_t rows = static_cast<std::size_t>(batch) * seq;
  const auto d = static_cast<std::size_t>(cfg.embd);
  const auto v = static_cast<std::size_t>(cfg.vocab);

  std::vector<gemm_result> gemms;
  double op_total = 0, blas_total = 0, flops_total = 0;
  for (const char pass : {'F', 'B', 'W'}) {
    const gemm_case cases[] = {{"attn.c_attn", pass, false, {rows, d, 3 * d}, cfg.layers},
                               {"attn.c_proj", pass, false, {rows, d, d}, cfg.layers},
                               {"mlp.c_fc", pass, false, {rows, d, 4 * d}, cfg.layers},
                               {"mlp.c_proj", pass, false, {rows, 4 * d, d}, cfg.layers},
                               {"lm_head (tied wte)", pass, true, {rows, d, v}, 1}};
    for (const gemm_case& c : cases) {
      gemms.push_back(time_case(c, o.reps));
      const gemm_result& r = gemms.back();
      op_total += r.op_s * c.per_step;
      blas_total += r.blas_s * c.per_step;
      flops_total += 2.0 * static_cast<double>(c.d.rows * c.d.in * c.d.out) * c.per_step;
    }
  }
  std::vector<step_result> steps;
  for (const int t : o.threads) {
    steps.push_back(time_steps(cfg, batch, seq, t, o));
  }

  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  if (o.json) {
    std::printf("{\"config\": {\"embd\": %d, \"layers\": %d, \"heads\": %d, \"seq\": %d, \"batch\": %d},\n", cfg.embd,
                cfg.layers, cfg.heads, seq, batch);
    std::printf(" \"gemm\": {\"op_ms\": %.3f, \"cblas_ms\": %.3f, \"efficiency\": %.4f, \"gflops_op\": %.2f},\n",
                1e3 * op_total, 1e3 * blas_total, blas_total / op_total, flops_total / op_total * 1e-9);
    std::printf(" \"steps\": [");
    for (std::size_t i = 0; i < steps.size(); ++i) {
      std::printf("%s{\"threads\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"speedup\": %.3f}", i ? ", " : "",
                  steps[i].threads, 1e3 * steps[i].median_s, 1e3 * steps[i].min_s,
                  steps[0].median_s / steps[i].median_s);
    }
    std::printf("],\n \"openblas_coretype\": \"%s\"}\n", coretype != nullptr ? coretype : "");
    return 0;
  }
  std::printf("GPT-2 d=%d L=%d H=%d T=%d B=%d (%zu parameters); OPENBLAS_CORETYPE=%s\n\n", cfg.embd, cfg.layers,
              cfg.heads, seq, batch, cfg.parameter_count(), coretype != nullptr ? coretype : "(unset)");
  std::printf("GEMMs of one step, the model's op against cblas_sgemm alone (1 thread, median of %d):\n", o.reps);
  std::printf("  %-20s %4s %16s %9s %9s %7s\n", "gemm", "pass", "rows x in x out", "op ms", "cblas ms", "eff");
  for (const gemm_result& r : gemms) {
    std::printf("  %-20s %4c %5zu x%5zu x%5zu %9.3f %9.3f %6.1f%%\n", r.c.name.c_str(), r.c.pass, r.c.d.rows, r.c.d.in,
                r.c.d.out, 1e3 * r.op_s, 1e3 * r.blas_s, 100 * r.blas_s / r.op_s);
  }
  std::printf("  per step: op %.1f ms, cblas %.1f ms: efficiency %.1f%% (target >= 90%%), %.1f GFLOP/s\n\n",
              1e3 * op_total, 1e3 * blas_total, 100 * blas_total / op_total, flops_total / op_total * 1e-9);
  std::printf("Step time (forward + backward + clip + AdamW), median of %d after %d warm-up:\n", o.steps, o.warmup);
  for (const step_result& s : steps) {
    std::printf("  %d thread(s): %8.1f ms (min %.1f), %7.0f tokens/s, speed-up %.2fx, loss %.3f\n", s.threads,
                1e3 * s.median_s, 1e3 * s.min_s, static_cast<double>(rows) / s.median_s, steps[0].median_s / s.median_s,
                s.last_loss);
  }
  std::printf("\nPyTorch on the same model: /usr/bin/python3 bench/torch_gpt2.py --threads 1,2\n");
  return 0;
}
