// Adam with torch.optim.Adam's update order, so one step matches PyTorch to float rounding.
#include <cmath>
#include <cstring>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/nn/optim.hpp"
#include "dkws/util.hpp"

#if defined(__x86_64__) || defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace dkws::nn {
namespace {

// The moments of a parameter whose gradient stays zero (a dead unit, common in ReLU networks)
// decay through the subnormal range, v for about 16,000 steps (x 0.999 a step from 2^-126 down to
// 2^-149), and x86 takes a microcode assist of about a hundred cycles for every subnormal operand
// or result: in training, Adam's step took twice its time (ac_mid: 12.7 against 6.6 us a step).
// So the step runs with subnormals flushed to zero (MXCSR's FTZ and DAZ bits, what
// torch.set_flush_denormal(True) sets), and restores the caller's mode. What that drops is below
// any weight's rounding: a subnormal m moves a weight by under lr * 2^-126 / eps = 6e-33 (lr
// 0.005, eps 1e-8); a subnormal v changes sqrt(v) + eps by under 2^-63, far under eps's ulp.
class FlushSubnormals {
 public:
#if defined(__x86_64__) || defined(__SSE__)
  FlushSubnormals() : saved_(_mm_getcsr()) {
    _mm_setcsr(saved_ | kFtzDaz);
  }
  ~FlushSubnormals() {
    _mm_setcsr(saved_);
  }

 private:
  static constexpr unsigned kFtzDaz = 0x8040;  // flush-to-zero (bit 15), denormals-are-zero (6)
  unsigned saved_;
#endif
};

}  // namespace

Adam::Adam(std::vector<Param*> params, float lr, float beta1, float beta2, float eps)
    : params_(std::move(params)), lr_(lr), b1_(beta1), b2_(beta2), eps_(eps) {
  for (Param* p : params_) {
    m_.emplace_back(p->value.size(), 0.f);
    v_.emplace_back(p->value.size(), 0.f);
  }
}

void Adam::step() {
  [[maybe_unused]] const FlushSubnormals flush;
  ++t_;
  const float bias1 = 1.f - std::pow(b1_, float(t_));
  const float bias2_sqrt = std::sqrt(1.f - std::pow(b2_, float(t_)));
  const float step_size = lr_ / bias1;
  for (size_t k = 0; k < params_.size(); ++k) {
    Param& p = *params_[k];
    if (!p.trainable) continue;
    float* __restrict w = p.value.ptr();
    const float* __restrict g = p.grad.ptr();
    float* __restrict m = m_[k].data();
    float* __restrict v = v_[k].data();
    const size_t n = p.value.size();
    for (size_t i = 0; i < n; ++i) {
      m[i] = b1_ * m[i] + (1.f - b1_) * g[i];
      v[i] = b2_ * v[i] + (1.f - b2_) * g[i] * g[i];
      const float denom = std::sqrt(v[i]) / bias2_sqrt + eps_;
      w[i] -= step_size * m[i] / denom;
    }
  }
}

namespace {

// Moments as base64 float32 per tensor: exact, and for a large dense layer about 20x faster to
// write than decimal numbers (the state file is rewritten every epoch for kill-and-resume).
nlohmann::json moments_to_json(const std::vector<std::vector<float>>& moments) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : moments) out.push_back(base64_encode(t.data(), t.size() * sizeof(float)));
  return out;
}

// Also reads the arrays of numbers that state files written before the base64 form hold.
std::vector<std::vector<float>> moments_from_json(const nlohmann::json& j, const char* key) {
  std::vector<std::vector<float>> out;
  for (const auto& t : j.at(key)) {
    if (!t.is_string()) {
      out.push_back(t.get<std::vector<float>>());
      continue;
    }
    const auto bytes = base64_decode(t.get<std::string>());
    if (bytes.size() % sizeof(float) != 0)
      throw Error(fmt::format("optimizer state: \"{}\" tensor of {} bytes", key, bytes.size()));
    out.emplace_back(bytes.size() / sizeof(float));
    std::memcpy(out.back().data(), bytes.data(), bytes.size());
  }
  return out;
}

}  // namespace

nlohmann::json Adam::state() const {
  return {{"t", t_}, {"lr", lr_}, {"m", moments_to_json(m_)}, {"v", moments_to_json(v_)}};
}

void Adam::load_state(const nlohmann::json& j) {
  auto m = moments_from_json(j, "m");
  auto v = moments_from_json(j, "v");
  if (m.size() != m_.size() || v.size() != v_.size()) throw Error("optimizer state: size mismatch");
  for (size_t k = 0; k < m.size(); ++k)
    if (m[k].size() != m_[k].size() || v[k].size() != v_[k].size())
      throw Error("optimizer state: tensor size mismatch");
  m_ = std::move(m);
  v_ = std::move(v);
  t_ = j.at("t").get<long>();
  lr_ = j.at("lr").get<float>();
}

ReduceLROnPlateau::ReduceLROnPlateau(bool mode_max, float factor, int patience, float threshold,
                                     float min_lr)
    : mode_max_(mode_max),
      factor_(factor),
      threshold_(threshold),
      min_lr_(min_lr),
      patience_(patience),
      best_(mode_max ? -INFINITY : INFINITY) {}

float ReduceLROnPlateau::step(float metric, float lr) {
  // torch's 'rel' threshold mode.
  const bool better =
      mode_max_ ? metric > best_ * (1.0 + threshold_) : metric < best_ * (1.0 - threshold_);
  if (better) {
    best_ = metric;
    bad_epochs_ = 0;
  } else {
    ++bad_epochs_;
  }
  if (bad_epochs_ > patience_) {
    bad_epochs_ = 0;
    const float new_lr = std::max(lr * factor_, min_lr_);
    // torch skips updates smaller than eps=1e-8.
    if (lr - new_lr > 1e-8f) return new_lr;
  }
  return lr;
}

nlohmann::json ReduceLROnPlateau::state() const {
  return {{"best", best_}, {"bad_epochs", bad_epochs_}};
}

void ReduceLROnPlateau::load_state(const nlohmann::json& j) {
  best_ = j.at("best").is_null() ? (mode_max_ ? -INFINITY : INFINITY) : j.at("best").get<double>();
  bad_epochs_ = j.at("bad_epochs").get<int>();
}

void apply_max_norm(const std::vector<Param*>& params) {
  for (Param* p : params) {
    if (p->max_norm <= 0.f || !p->trainable) continue;
    const int rows = p->value.dim(0);
    const size_t cols = p->value.size() / size_t(rows);
    for (int r = 0; r < rows; ++r) {
      float* w = p->value.ptr() + size_t(r) * cols;
      double sq = 0;
      for (size_t i = 0; i < cols; ++i) sq += double(w[i]) * w[i];
      const float norm = float(std::sqrt(sq));
      if (norm <= p->max_norm) continue;
      const float scale = p->max_norm / (1e-7f + norm);
      for (size_t i = 0; i < cols; ++i) w[i] *= scale;
    }
  }
}

}  // namespace dkws::nn
