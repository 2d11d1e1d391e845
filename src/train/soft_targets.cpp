#include "train/soft_targets.hpp"

#include <algorithm>
#include <cmath>

#include "dkws/nn/sequential.hpp"

namespace dkws {
namespace {

// Gamma(a, 1) by Marsaglia and Tsang's squeeze method; a < 1 via Gamma(a + 1) * U^(1/a).
double gamma_draw(Rng& rng, double a) {
  if (a < 1) return gamma_draw(rng, a + 1) * std::pow(1 - rng.uniform(), 1 / a);
  const double d = a - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x, v;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = 1 - rng.uniform();  // (0, 1]
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

}  // namespace

double beta_symmetric(Rng& rng, double a) {
  const double x = gamma_draw(rng, a), y = gamma_draw(rng, a);
  return x + y > 0 ? x / (x + y) : 0.5;
}

SoftTargets::SoftTargets(const TrainSpec& spec, int classes, std::vector<float> teacher_logits)
    : spec_(spec), classes_(classes) {
  if (teacher_logits.empty()) return;
  teacher_probs_.resize(teacher_logits.size());
  nn::softmax_rows(teacher_logits.data(), int(teacher_logits.size() / size_t(classes)), classes,
                   float(spec.distill_temperature), teacher_probs_.data());
}

void SoftTargets::begin_epoch(uint64_t seed, int epoch) {
  rng_.reseed(seed * 0xD1B54A32D192ED03ull + uint64_t(epoch) + 11);
}

std::vector<float> SoftTargets::smoothed(int label) const {
  std::vector<float> q(size_t(classes_), 0.f);
  add_hard(label, 1.f, q.data());
  return q;
}

void SoftTargets::add_hard(int label, float share, float* q) const {
  const float eps = float(spec_.label_smoothing);
  for (int j = 0; j < classes_; ++j) q[j] += share * eps / float(classes_);
  q[label] += share * (1 - eps);
}

void SoftTargets::add_teacher(size_t row, float share, float* q) const {
  const float* p = teacher_probs_.data() + row * size_t(classes_);
  for (int j = 0; j < classes_; ++j) q[j] += share * p[j];
}

void SoftTargets::mix(nn::Tensor& x, std::vector<int>& labels, const std::vector<size_t>& rows) {
  const size_t n = rows.size();
  partner_.resize(n);
  for (size_t i = 0; i < n; ++i) partner_[i] = i;
  own_labels_.assign(labels.begin(), labels.begin() + std::ptrdiff_t(n));
  lambda_ = 1;
  if (spec_.mixup <= 0) return;
  for (size_t i = n; i > 1; --i) std::swap(partner_[i - 1], partner_[rng_.below(i)]);
  lambda_ = beta_symmetric(rng_, spec_.mixup);
  const size_t dim = x.size() / n;
  mixed_x_.resize(x.size());
  const float a = float(lambda_), b = float(1 - lambda_);
  for (size_t i = 0; i < n; ++i) {
    const float* xi = x.ptr() + i * dim;
    const float* xp = x.ptr() + partner_[i] * dim;
    for (size_t k = 0; k < dim; ++k) mixed_x_[i * dim + k] = a * xi[k] + b * xp[k];
  }
  std::copy(mixed_x_.begin(), mixed_x_.end(), x.ptr());
  for (size_t i = 0; i < n; ++i)
    labels[i] = lambda_ >= 0.5 ? own_labels_[i] : own_labels_[partner_[i]];
}

float SoftTargets::loss(const nn::Tensor& logits, const std::vector<size_t>& rows,
                        nn::Tensor& dlogits) {
  const size_t n = size_t(logits.dim(0)), c = size_t(classes_);
  const float a = float(lambda_), b = float(1 - lambda_);
  dlogits.resize(logits.shape);
  std::fill(dlogits.ptr(), dlogits.ptr() + dlogits.size(), 0.f);
  const double w = teacher_probs_.empty() ? 0 : spec_.distill_weight;
  float total = 0;
  if (w < 1) {
    hard_.assign(n * c, 0.f);
    for (size_t i = 0; i < n; ++i) {
      add_hard(own_labels_[i], a, hard_.data() + i * c);
      if (b > 0) add_hard(own_labels_[partner_[i]], b, hard_.data() + i * c);
    }
    total += nn::soft_target_cross_entropy(logits, hard_.data(), 1.f, float(1 - w), dlogits);
  }
  if (w > 0) {
    soft_.assign(n * c, 0.f);
    for (size_t i = 0; i < n; ++i) {
      add_teacher(rows[i], a, soft_.data() + i * c);
      if (b > 0) add_teacher(rows[partner_[i]], b, soft_.data() + i * c);
    }
    total += nn::soft_target_cross_entropy(logits, soft_.data(), float(spec_.distill_temperature),
                                           float(w), dlogits);
  }
  return total;
}

}  // namespace dkws
