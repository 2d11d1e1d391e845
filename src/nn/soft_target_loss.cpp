// Cross-entropy against soft targets: label smoothing, mixup and distillation all train on a
// target distribution per row instead of one label. The softmax follows softmax_cross_entropy's
// arithmetic (log-sum-exp about the row's float maximum, in double).
#include <algorithm>
#include <cmath>
#include <vector>

#include "dkws/nn/sequential.hpp"

namespace dkws::nn {
namespace {

// log softmax of one row of z / temperature into `log_p`.
void log_softmax_row(const float* z, int c, float temperature, double* log_p) {
  float zmax = z[0] / temperature;
  for (int j = 1; j < c; ++j) zmax = std::max(zmax, z[j] / temperature);
  double sum = 0;
  for (int j = 0; j < c; ++j) {
    log_p[j] = double(z[j] / temperature - zmax);
    sum += std::exp(log_p[j]);
  }
  const double log_sum = std::log(sum);
  for (int j = 0; j < c; ++j) log_p[j] -= log_sum;
}

}  // namespace

void softmax_rows(const float* logits, int n, int c, float temperature, float* out) {
  std::vector<double> log_p(static_cast<size_t>(c));
  for (int i = 0; i < n; ++i) {
    log_softmax_row(logits + size_t(i) * c, c, temperature, log_p.data());
    for (int j = 0; j < c; ++j) out[size_t(i) * c + j] = float(std::exp(log_p[size_t(j)]));
  }
}

float soft_target_cross_entropy(const Tensor& logits, const float* targets, float temperature,
                                float weight, Tensor& dlogits) {
  const int n = logits.dim(0), c = logits.dim(1);
  const float scale = weight * temperature / float(n);
  std::vector<double> log_p(static_cast<size_t>(c));
  double total = 0;
  for (int i = 0; i < n; ++i) {
    const float* q = targets + size_t(i) * c;
    float* d = dlogits.ptr() + size_t(i) * c;
    log_softmax_row(logits.ptr() + size_t(i) * c, c, temperature, log_p.data());
    for (int j = 0; j < c; ++j) {
      if (q[j] != 0) total -= double(q[j]) * log_p[size_t(j)];
      d[j] += (float(std::exp(log_p[size_t(j)])) - q[j]) * scale;
    }
  }
  return float(double(weight) * temperature * temperature * total / n);
}

}  // namespace dkws::nn
