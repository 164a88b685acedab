#include "taskpipe/nn/adamw.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "taskpipe/error.hpp"

namespace taskpipe::nn {
namespace {

void check_range(const char* name, double v, double lo, bool lo_open, double hi, bool hi_open) {
  const bool ok = (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  if (!ok || std::isnan(v)) {
    throw invalid_argument(std::string(name) + " " + std::to_string(v) + " is out of range: accepted " +
                           (lo_open ? "(" : "[") + std::to_string(lo) + ", " + std::to_string(hi) +
                           (hi_open ? ")" : "]"));
  }
}

}  // namespace

void adamw_options::validate() const {
  check_range("lr", lr, 0, true, 10, false);
  check_range("beta1", beta1, 0, false, 1, true);
  check_range("beta2", beta2, 0, false, 1, true);
  check_range("eps", eps, 0, true, 1, false);
  check_range("weight_decay", weight_decay, 0, false, 10, false);
}

adamw::adamw(std::vector<parameter*> params, const adamw_options& options, memory_ledger* ledger)
    : m_params(std::move(params)), m_options(options) {
  m_options.validate();
  m_exp_avg.reserve(m_params.size());
  m_exp_avg_sq.reserve(m_params.size());
  for (const parameter* p : m_params) {
    m_exp_avg.emplace_back(p->value.shape(), memory_category::optimizer, ledger);
    m_exp_avg_sq.emplace_back(p->value.shape(), memory_category::optimizer, ledger);
  }
}

void adamw::set_steps(std::int64_t steps) {
  if (steps < 0) {
    throw invalid_argument("optimizer step count " + std::to_string(steps) + " is negative");
  }
  m_steps = steps;
}

void adamw::step(double lr) {
  ++m_steps;
  const auto t = static_cast<double>(m_steps);
  const double bias_correction1 = 1.0 - std::pow(m_options.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(m_options.beta2, t);
  // torch: step_size = lr / bc1 and denom = sqrt(v) / sqrt(bc2) + eps, as Python floats turned into float32 scalars.
  const auto step_size = static_cast<float>(lr / bias_correction1);
  const auto bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const auto beta1 = static_cast<float>(m_options.beta1);
  const auto beta2 = static_cast<float>(m_options.beta2);
  const auto one_minus_beta1 = static_cast<float>(1.0 - m_options.beta1);
  const auto one_minus_beta2 = static_cast<float>(1.0 - m_options.beta2);
  const auto eps = static_cast<float>(m_options.eps);
  const auto decay = static_cast<float>(1.0 - lr * m_options.weight_decay);
  for (std::size_t i = 0; i < m_params.size(); ++i) {
    parameter& p = *m_params[i];
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* m = m_exp_avg[i].data();
    float* v = m_exp_avg_sq[i].data();
    const std::size_t n = p.value.size();
    if (p.decay && m_options.weight_decay != 0) {
      for (std::size_t k = 0; k < n; ++k) {
        w[k] *= decay;
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      m[k] = beta1 * m[k] + one_minus_beta1 * g[k];
      v[k] = beta2 * v[k] + one_minus_beta2 * g[k] * g[k];
      const float denom = std::sqrt(v[k]) / bc2_sqrt + eps;
      w[k] -= step_size * (m[k] / denom);
    }
  }
}

double grad_norm(std::span<parameter* const> params) {
  double sum = 0;
  for (const parameter* p : params) {
    for (const float g : p->grad.span()) {
      sum += static_cast<double>(g) * static_cast<double>(g);
    }
  }
  return std::sqrt(sum);
}

double clip_grad_norm(std::span<parameter* const> params, double max_norm) {
  if (!(max_norm > 0)) {
    throw invalid_argument("clip_grad_norm: max_norm " + std::to_string(max_norm) + " must be > 0");
  }
  const double total = grad_norm(params);
  if (!std::isfinite(total)) {
    return total;
  }
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    const auto c = static_cast<float>(coef);
    for (parameter* p : params) {
      for (float& g : p->grad.span()) {
        g *= c;
      }
    }
  }
  return total;
}

double lr_schedule::at(std::int64_t s) const noexcept {
  if (s < warmup) {
    return lr * static_cast<double>(s + 1) / static_cast<double>(warmup);
  }
  if (!cosine) {
    return lr;
  }
  const std::int64_t span = std::max<std::int64_t>(1, steps - 1 - warmup);
  const double ratio = std::min(1.0, static_cast<double>(s - warmup) / static_cast<double>(span));
  const double coeff = 0.5 * (1.0 + std::cos(std::numbers::pi * ratio));
  const double low = floor * lr;
  return low + coeff * (lr - low);
}

void lr_schedule::validate() const {
  check_range("lr", lr, 0, true, 10, false);
  if (warmup < 0) {
    throw invalid_argument("warmup " + std::to_string(warmup) + " is negative: accepted >= 0");
  }
  check_range("lr floor", floor, 0, false, 1, false);
  if (steps < 1) {
    throw invalid_argument("steps " + std::to_string(steps) + " is out of range: accepted >= 1");
  }
}

}  // namespace taskpipe::nn
