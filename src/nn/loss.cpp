// Softmax cross-entropy, fused so the gradient is softmax - onehot without forming the Jacobian.
#include <cmath>

#include "dkws/nn/sequential.hpp"

namespace dkws::nn {

float softmax_cross_entropy(const Tensor& logits, const int* labels, Tensor& dlogits) {
  const int n = logits.dim(0), c = logits.dim(1);
  dlogits.resize(logits.shape);
  double total = 0;
  const float inv_n = 1.f / float(n);
  for (int i = 0; i < n; ++i) {
    const float* z = logits.ptr() + size_t(i) * c;
    float* d = dlogits.ptr() + size_t(i) * c;
    float zmax = z[0];
    for (int j = 1; j < c; ++j) zmax = std::max(zmax, z[j]);
    double sum = 0;
    for (int j = 0; j < c; ++j) sum += std::exp(double(z[j] - zmax));
    const double log_sum = std::log(sum);
    total += log_sum - double(z[labels[i]] - zmax);
    for (int j = 0; j < c; ++j) d[j] = float(std::exp(double(z[j] - zmax) - log_sum)) * inv_n;
    d[labels[i]] -= inv_n;
  }
  return float(total / n);
}

void argmax_rows(const Tensor& logits, std::vector<int>& out) {
  const int n = logits.dim(0), c = logits.dim(1);
  out.resize(size_t(n));
  for (int i = 0; i < n; ++i) {
    const float* z = logits.ptr() + size_t(i) * c;
    int best = 0;
    for (int j = 1; j < c; ++j)
      if (z[j] > z[best]) best = j;
    out[size_t(i)] = best;
  }
}

}  // namespace dkws::nn
