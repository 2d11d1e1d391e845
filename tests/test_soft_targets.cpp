// Soft-target losses (label smoothing, mixup, distillation): reference values, finite-difference
// gradients, and the mixing of inputs and targets.
#include <cmath>
#include <numeric>
#include <set>

#include "dkws/nn/sequential.hpp"
#include "test_util.hpp"
#include "train/soft_targets.hpp"

namespace {

using namespace dkws;

nn::Tensor tensor_of(int n, int c, std::vector<float> v) {
  nn::Tensor t({n, c});
  t.data = std::move(v);
  return t;
}

// The loss and gradient of `fn` (logits -> loss, writing dlogits) checked against central
// differences on every logit.
template <class Fn>
void expect_gradient_matches_differences(const nn::Tensor& logits, Fn fn, double tol) {
  nn::Tensor d;
  fn(logits, d);
  const nn::Tensor grad = d;
  double max_grad = 0;
  for (float g : grad.data) max_grad = std::max(max_grad, double(std::abs(g)));
  ASSERT_GT(max_grad, 1e-3);
  const float eps = 1e-2f;
  for (size_t k = 0; k < logits.size(); ++k) {
    nn::Tensor up = logits, down = logits, scratch;
    up.data[k] += eps;
    down.data[k] -= eps;
    const double numeric = (double(fn(up, scratch)) - double(fn(down, scratch))) / (2 * eps);
    EXPECT_NEAR(grad.data[k], numeric, tol) << "logit " << k;
  }
}

TEST(SoftTargetLoss, ReferenceValues) {
  // logits [0, ln 3]: softmax [1/4, 3/4]; target [1/2, 1/2].
  const nn::Tensor z = tensor_of(1, 2, {0.f, float(std::log(3.0))});
  const float q[2] = {0.5f, 0.5f};
  nn::Tensor d({1, 2});
  std::fill(d.data.begin(), d.data.end(), 0.f);
  const float loss = nn::soft_target_cross_entropy(z, q, 1.f, 1.f, d);
  EXPECT_NEAR(loss, -(0.5 * std::log(0.25) + 0.5 * std::log(0.75)), 1e-6);
  EXPECT_NEAR(d.data[0], -0.25, 1e-6);
  EXPECT_NEAR(d.data[1], 0.25, 1e-6);
  // At T = 2 the softmax is [1, sqrt 3] / (1 + sqrt 3); the loss is scaled by w T^2 and the
  // gradient by w T, and it is added to what dlogits held.
  std::fill(d.data.begin(), d.data.end(), 1.f);
  const double p0 = 1 / (1 + std::sqrt(3.0)), p1 = 1 - p0;
  const float loss2 = nn::soft_target_cross_entropy(z, q, 2.f, 0.5f, d);
  EXPECT_NEAR(loss2, 0.5 * 4 * -(0.5 * std::log(p0) + 0.5 * std::log(p1)), 1e-6);
  EXPECT_NEAR(d.data[0], 1 + 0.5 * 2 * (p0 - 0.5), 1e-6);
  EXPECT_NEAR(d.data[1], 1 + 0.5 * 2 * (p1 - 0.5), 1e-6);
  // A one-hot target at T = 1 is softmax cross-entropy.
  const float one_hot[2] = {0.f, 1.f};
  const int label = 1;
  nn::Tensor d_soft({1, 2}), d_hard;
  std::fill(d_soft.data.begin(), d_soft.data.end(), 0.f);
  EXPECT_NEAR(nn::soft_target_cross_entropy(z, one_hot, 1.f, 1.f, d_soft),
              nn::softmax_cross_entropy(z, &label, d_hard), 1e-7);
  for (int j = 0; j < 2; ++j) EXPECT_NEAR(d_soft.data[size_t(j)], d_hard.data[size_t(j)], 1e-7);
}

TEST(SoftTargetLoss, GradientMatchesFiniteDifferences) {
  Rng rng(3);
  const int n = 3, c = 5;
  nn::Tensor z({n, c});
  for (float& v : z.data) v = float(2 * rng.normal());
  std::vector<float> q(size_t(n * c));
  for (int i = 0; i < n; ++i) {
    double sum = 0;
    for (int j = 0; j < c; ++j) sum += q[size_t(i * c + j)] = float(rng.uniform(0.01, 1));
    for (int j = 0; j < c; ++j) q[size_t(i * c + j)] = float(q[size_t(i * c + j)] / sum);
  }
  for (float temperature : {1.f, 3.f}) {
    expect_gradient_matches_differences(
        z,
        [&](const nn::Tensor& logits, nn::Tensor& d) {
          d.resize(logits.shape);
          std::fill(d.data.begin(), d.data.end(), 0.f);
          return nn::soft_target_cross_entropy(logits, q.data(), temperature, 0.7f, d);
        },
        2e-4);
  }
}

TEST(SoftTargets, LabelSmoothingAndDistillationLossesHaveTheirGradients) {
  const int n = 4, c = 3;
  TrainSpec spec;
  spec.label_smoothing = 0.1;
  EXPECT_NEAR(SoftTargets(spec, c, {}).smoothed(2)[2], 0.9 + 0.1 / 3, 1e-7);
  EXPECT_NEAR(SoftTargets(spec, c, {}).smoothed(2)[0], 0.1 / 3, 1e-7);
  spec.teacher = "teacher.json";  // only its presence matters here; logits come in directly
  spec.distill_weight = 0.4;
  spec.distill_temperature = 2;
  Rng rng(5);
  std::vector<float> teacher(size_t(6 * c));
  for (float& v : teacher) v = float(rng.normal());
  SoftTargets targets(spec, c, teacher);
  const std::vector<size_t> rows = {5, 0, 3, 1};
  std::vector<int> labels = {0, 2, 1, 1};
  nn::Tensor x({n, 2});
  targets.mix(x, labels, rows);  // mixup off: records the labels, leaves x alone
  nn::Tensor z({n, c});
  for (float& v : z.data) v = float(rng.normal());
  expect_gradient_matches_differences(
      z, [&](const nn::Tensor& logits, nn::Tensor& d) { return targets.loss(logits, rows, d); },
      2e-4);
  // The value: (1 - w) label-smoothed CE + w T^2 CE against the teacher's softmax at T.
  nn::Tensor d;
  const double got = targets.loss(z, rows, d);
  double want = 0;
  for (int i = 0; i < n; ++i) {
    const float* zi = z.ptr() + i * c;
    const float* ti = teacher.data() + rows[size_t(i)] * c;
    double s1 = 0, sT = 0, tT = 0;
    for (int j = 0; j < c; ++j)
      s1 += std::exp(zi[j]), sT += std::exp(zi[j] / 2.0), tT += std::exp(ti[j] / 2.0);
    for (int j = 0; j < c; ++j) {
      const double hard = (j == labels[size_t(i)] ? 0.9 : 0) + 0.1 / 3;
      want += 0.6 * hard * -(zi[j] - std::log(s1));
      want += 0.4 * 4 * (std::exp(ti[j] / 2.0) / tT) * -(zi[j] / 2.0 - std::log(sT));
    }
  }
  EXPECT_NEAR(got, want / n, 1e-5);
}

TEST(SoftTargets, MixupMixesInputsAndTargetsAlike) {
  const int n = 8, c = 4;
  TrainSpec spec;
  spec.mixup = 0.4;
  SoftTargets targets(spec, c, {});
  targets.begin_epoch(1, 0);
  int mixed_batches = 0;
  for (int batch = 0; batch < 20; ++batch) {
    // Row i of x is the unit vector e_i, so a mixed row shows its partner and lambda.
    nn::Tensor x({n, n});
    std::fill(x.data.begin(), x.data.end(), 0.f);
    for (int i = 0; i < n; ++i) x.data[size_t(i * n + i)] = 1;
    std::vector<int> own = {0, 1, 2, 3, 0, 1, 2, 3}, labels = own;
    std::vector<size_t> rows(n);
    std::iota(rows.begin(), rows.end(), size_t(0));
    targets.mix(x, labels, rows);
    // With zero logits the gradient is (1/C - q) / n, which gives back the targets q.
    nn::Tensor z({n, c}), d;
    std::fill(z.data.begin(), z.data.end(), 0.f);
    targets.loss(z, rows, d);
    std::set<int> partners;
    double lambda = -1;
    for (int i = 0; i < n; ++i) {
      const float* row = x.ptr() + i * n;
      const float self = row[i];
      int partner = i;
      for (int k = 0; k < n; ++k)
        if (k != i && row[k] != 0) partner = k;
      partners.insert(partner);
      if (partner == i) {
        EXPECT_NEAR(self, 1, 1e-6);
        continue;
      }
      if (lambda < 0) lambda = self;
      EXPECT_NEAR(self, lambda, 1e-6) << "one lambda per batch";
      EXPECT_NEAR(row[partner], 1 - lambda, 1e-6);
      EXPECT_EQ(labels[size_t(i)], lambda >= 0.5 ? own[size_t(i)] : own[size_t(partner)]);
      for (int j = 0; j < c; ++j) {
        const double q = 1.0 / c - n * d.data[size_t(i * c + j)];
        const double want =
            lambda * (j == own[size_t(i)]) + (1 - lambda) * (j == own[size_t(partner)]);
        EXPECT_NEAR(q, want, 1e-5) << "row " << i << " class " << j;
      }
    }
    EXPECT_EQ(partners.size(), size_t(n)) << "the partners are a permutation";
    mixed_batches += lambda >= 0;
  }
  EXPECT_GT(mixed_batches, 15);
}

TEST(SoftTargets, BetaDrawsHaveTheirMoments) {
  for (double a : {0.2, 0.4, 2.0}) {
    Rng rng(9);
    const int draws = 40000;
    double sum = 0, sq = 0;
    for (int i = 0; i < draws; ++i) {
      const double b = beta_symmetric(rng, a);
      ASSERT_GE(b, 0);
      ASSERT_LE(b, 1);
      sum += b, sq += b * b;
    }
    const double mean = sum / draws, var = sq / draws - mean * mean;
    EXPECT_NEAR(mean, 0.5, 0.01) << a;
    EXPECT_NEAR(var, 1 / (4 * (2 * a + 1)), 0.005) << a;  // Beta(a, a): 1 / (4 (2a + 1))
  }
}

}  // namespace
