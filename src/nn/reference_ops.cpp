#include "taskpipe/nn/reference_ops.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

namespace taskpipe::nn::ref {

void linear_forward(std::span<const double> x, std::span<const double> w, std::span<const double> b,
                    std::span<double> y, linear_dims d) {
  for (std::size_t r = 0; r < d.rows; ++r) {
    for (std::size_t o = 0; o < d.out; ++o) {
      double s = b.empty() ? 0.0 : b[o];
      for (std::size_t i = 0; i < d.in; ++i) {
        s += x[r * d.in + i] * w[i * d.out + o];
      }
      y[r * d.out + o] = s;
    }
  }
}

void linear_backward_input(std::span<const double> dy, std::span<const double> w, std::span<double> dx, linear_dims d) {
  for (std::size_t r = 0; r < d.rows; ++r) {
    for (std::size_t i = 0; i < d.in; ++i) {
      double s = 0.0;
      for (std::size_t o = 0; o < d.out; ++o) {
        s += dy[r * d.out + o] * w[i * d.out + o];
      }
      dx[r * d.in + i] = s;
    }
  }
}

void linear_backward_weight(std::span<const double> x, std::span<const double> dy, std::span<double> dw,
                            std::span<double> db, linear_dims d) {
  for (std::size_t r = 0; r < d.rows; ++r) {
    for (std::size_t o = 0; o < d.out; ++o) {
      const double g = dy[r * d.out + o];
      for (std::size_t i = 0; i < d.in; ++i) {
        dw[i * d.out + o] += x[r * d.in + i] * g;
      }
      if (!db.empty()) {
        db[o] += g;
      }
    }
  }
}

void tied_head_forward(std::span<const double> x, std::span<const double> wte, std::span<double> logits,
                       linear_dims d) {
  for (std::size_t r = 0; r < d.rows; ++r) {
    for (std::size_t v = 0; v < d.out; ++v) {
      double s = 0.0;
      for (std::size_t i = 0; i < d.in; ++i) {
        s += x[r * d.in + i] * wte[v * d.in + i];
      }
      logits[r * d.out + v] = s;
    }
  }
}

void tied_head_backward_input(std::span<const double> dlogits, std::span<const double> wte, std::span<double> dx,
                              linear_dims d) {
  for (std::size_t r = 0; r < d.rows; ++r) {
    for (std::size_t i = 0; i < d.in; ++i) {
      double s = 0.0;
      for (std::size_t v = 0; v < d.out; ++v) {
        s += dlogits[r * d.out + v] * wte[v * d.in + i];
      }
      dx[r * d.in + i] = s;
    }
  }
}

void tied_head_backward_weight(std::span<const double> x, std::span<const double> dlogits, std::span<double> dwte,
                               linear_dims d) {
  for (std::size_t r = 0; r < d.rows; ++r) {
    for (std::size_t v = 0; v < d.out; ++v) {
      for (std::size_t i = 0; i < d.in; ++i) {
        dwte[v * d.in + i] += dlogits[r * d.out + v] * x[r * d.in + i];
      }
    }
  }
}

void layernorm_forward(std::span<const double> x, std::span<const double> weight, std::span<const double> bias,
                       std::span<double> y, std::span<double> mean, std::span<double> rstd, layernorm_dims d) {
  for (std::size_t r = 0; r < d.rows; ++r) {
    double m = 0.0;
    for (std::size_t j = 0; j < d.c; ++j) {
      m += x[r * d.c + j];
    }
    m /= static_cast<double>(d.c);
    double v = 0.0;
    for (std::size_t j = 0; j < d.c; ++j) {
      v += (x[r * d.c + j] - m) * (x[r * d.c + j] - m);
    }
    v /= static_cast<double>(d.c);
    const double rs = 1.0 / std::sqrt(v + static_cast<double>(layernorm_eps));
    for (std::size_t j = 0; j < d.c; ++j) {
      y[r * d.c + j] = (x[r * d.c + j] - m) * rs * weight[j] + bias[j];
    }
    mean[r] = m;
    rstd[r] = rs;
  }
}

void layernorm_backward_input(std::span<const double> dy, std::span<const double> x, std::span<const double> mean,
                              std::span<const double> rstd, std::span<const double> weight, std::span<double> dx,
                              layernorm_dims d) {
  // The full Jacobian of y = (x - μ)·σ⁻¹·w + b, contracted with dy: no shortcuts, so it checks the fast formula.
  const auto c = static_cast<double>(d.c);
  for (std::size_t r = 0; r < d.rows; ++r) {
    const double rs = rstd[r];
    for (std::size_t i = 0; i < d.c; ++i) {
      const double xhi = (x[r * d.c + i] - mean[r]) * rs;
      double s = 0.0;
      for (std::size_t j = 0; j < d.c; ++j) {
        const double xhj = (x[r * d.c + j] - mean[r]) * rs;
        const double jac = rs * ((i == j ? 1.0 : 0.0) - 1.0 / c - xhi * xhj / c);  // ∂x̂_j/∂x_i
        s += dy[r * d.c + j] * weight[j] * jac;
      }
      dx[r * d.c + i] = s;
    }
  }
}

void layernorm_backward_weight(std::span<const double> dy, std::span<const double> x, std::span<const double> mean,
                               std::span<const double> rstd, std::span<double> dw, std::span<double> db,
                               layernorm_dims d) {
  for (std::size_t r = 0; r < d.rows; ++r) {
    for (std::size_t j = 0; j < d.c; ++j) {
      dw[j] += dy[r * d.c + j] * (x[r * d.c + j] - mean[r]) * rstd[r];
      db[j] += dy[r * d.c + j];
    }
  }
}

void attention_forward(std::span<const double> qkv, std::span<double> out, std::span<double> probs, attention_dims d) {
  const std::size_t hd = d.embd / d.heads;
  const std::size_t ld = 3 * d.embd;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  for (std::size_t b = 0; b < d.batch; ++b) {
    for (std::size_t h = 0; h < d.heads; ++h) {
      double* p = probs.data() + (b * d.heads + h) * d.seq * d.seq;
      for (std::size_t i = 0; i < d.seq; ++i) {
        const double* q = qkv.data() + (b * d.seq + i) * ld + h * hd;
        double mx = -std::numeric_limits<double>::infinity();
        for (std::size_t j = 0; j < d.seq; ++j) {
          if (j > i) {
            p[i * d.seq + j] = 0.0;
            continue;
          }
          const double* k = qkv.data() + (b * d.seq + j) * ld + d.embd + h * hd;
          double s = 0.0;
          for (std::size_t e = 0; e < hd; ++e) {
            s += q[e] * k[e];
          }
          p[i * d.seq + j] = s * scale;
          mx = std::max(mx, s * scale);
        }
        double sum = 0.0;
        for (std::size_t j = 0; j <= i; ++j) {
          p[i * d.seq + j] = std::exp(p[i * d.seq + j] - mx);
          sum += p[i * d.seq + j];
        }
        for (std::size_t j = 0; j <= i; ++j) {
          p[i * d.seq + j] /= sum;
        }
        double* o = out.data() + (b * d.seq + i) * d.embd + h * hd;
        for (std::size_t e = 0; e < hd; ++e) {
          double s = 0.0;
          for (std::size_t j = 0; j <= i; ++j) {
            s += p[i * d.seq + j] * qkv[(b * d.seq + j) * ld + 2 * d.embd + h * hd + e];
          }
          o[e] = s;
        }
      }
    }
  }
}

void attention_backward(std::span<const double> dout, std::span<const double> qkv, std::span<const double> probs,
                        std::span<double> dqkv, attention_dims d) {
  const std::size_t hd = d.embd / d.heads;
  const std::size_t ld = 3 * d.embd;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  for (double& v : dqkv) {
    v = 0.0;
  }
  for (std::size_t b = 0; b < d.batch; ++b) {
    for (std::size_t h = 0; h < d.heads; ++h) {
      const double* p = probs.data() + (b * d.heads + h) * d.seq * d.seq;
      for (std::size_t i = 0; i < d.seq; ++i) {
        const double* dout_i = dout.data() + (b * d.seq + i) * d.embd + h * hd;
        // dp_j = dout_i · v_j; dv_j += p_ij · dout_i
        std::vector<double> dp(i + 1);
        for (std::size_t j = 0; j <= i; ++j) {
          const std::size_t vj = (b * d.seq + j) * ld + 2 * d.embd + h * hd;
          for (std::size_t e = 0; e < hd; ++e) {
            dp[j] += dout_i[e] * qkv[vj + e];
            dqkv[vj + e] += p[i * d.seq + j] * dout_i[e];
          }
        }
        // softmax backward: ds_j = p_j (dp_j - Σ_k p_k dp_k)
        double dot = 0.0;
        for (std::size_t j = 0; j <= i; ++j) {
          dot += p[i * d.seq + j] * dp[j];
        }
        const std::size_t qi = (b * d.seq + i) * ld + h * hd;
        for (std::size_t j = 0; j <= i; ++j) {
          const double ds = p[i * d.seq + j] * (dp[j] - dot) * scale;
          const std::size_t kj = (b * d.seq + j) * ld + d.embd + h * hd;
          for (std::size_t e = 0; e < hd; ++e) {
            dqkv[qi + e] += ds * qkv[kj + e];
            dqkv[kj + e] += ds * qkv[qi + e];
          }
        }
      }
    }
  }
}

namespace {
constexpr double gelu_c = 0.044715;
double gelu_k() { return std::sqrt(2.0 / std::numbers::pi); }
}  // namespace

void gelu_forward(std::span<const double> x, std::span<double> y) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    y[i] = 0.5 * v * (1.0 + std::tanh(gelu_k() * (v + gelu_c * v * v * v)));
  }
}

void gelu_backward(std::span<const double> dy, std::span<const double> x, std::span<double> dx) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    const double t = std::tanh(gelu_k() * (v + gelu_c * v * v * v));
    const double sech2 = 1.0 - t * t;
    dx[i] = dy[i] * (0.5 * (1.0 + t) + 0.5 * v * sech2 * gelu_k() * (1.0 + 3.0 * gelu_c * v * v));
  }
}

void embedding_forward(std::span<const std::int32_t> tokens, std::span<const double> wte, std::span<const double> wpe,
                       std::span<double> y, embedding_dims d) {
  for (std::size_t r = 0; r < d.batch * d.seq; ++r) {
    const auto tok = static_cast<std::size_t>(tokens[r]);
    for (std::size_t j = 0; j < d.c; ++j) {
      y[r * d.c + j] = wte[tok * d.c + j] + wpe[(r % d.seq) * d.c + j];
    }
  }
}

void embedding_backward_weight(std::span<const std::int32_t> tokens, std::span<const double> dy, std::span<double> dwte,
                               std::span<double> dwpe, embedding_dims d) {
  for (std::size_t r = 0; r < d.batch * d.seq; ++r) {
    const auto tok = static_cast<std::size_t>(tokens[r]);
    for (std::size_t j = 0; j < d.c; ++j) {
      dwte[tok * d.c + j] += dy[r * d.c + j];
      dwpe[(r % d.seq) * d.c + j] += dy[r * d.c + j];
    }
  }
}

double softmax_cross_entropy(std::span<double> logits, std::span<const std::int32_t> targets, std::size_t rows,
                             std::size_t vocab, double grad_scale) {
  double total = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    double* z = logits.data() + r * vocab;
    double mx = z[0];
    for (std::size_t j = 1; j < vocab; ++j) {
      mx = std::max(mx, z[j]);
    }
    double sum = 0.0;
    for (std::size_t j = 0; j < vocab; ++j) {
      sum += std::exp(z[j] - mx);
    }
    const auto t = static_cast<std::size_t>(targets[r]);
    total += std::log(sum) + mx - z[t];
    for (std::size_t j = 0; j < vocab; ++j) {
      z[j] = grad_scale * (std::exp(z[j] - mx) / sum - (j == t ? 1.0 : 0.0));
    }
  }
  return total;
}

}  // namespace taskpipe::nn::ref
