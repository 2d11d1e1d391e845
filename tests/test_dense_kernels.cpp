// The Dense layer's fast kernels (src/nn/dense_kernels.cpp) against its reference loops, on shapes
// that hit every tile and remainder path: in below, at and past one vector and a tile of vectors,
// outputs and items that are and are not multiples of a tile, batch 1 to beyond one cache block.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dkws/nn/layers.hpp"
#include "nn/layer_util.hpp"

using namespace dkws;
using namespace dkws::nn;

namespace {

// Magnitudes in [0.5, 1.5] with random signs: every product in a sum is at least 0.25 in size, so
// a term left out or counted twice moves the result far more than the tolerance below.
void fill(std::vector<float>& v, Rng& rng) {
  for (float& f : v) f = float(rng.uniform(0.5, 1.5)) * (rng.below(2) ? 1.f : -1.f);
}
void fill(Tensor& t, Rng& rng) {
  fill(t.data, rng);
}

struct Result {
  Tensor y, dx;
  std::vector<float> dw, db;
};

// Forward and backward of one Dense layer with the given weights, starting from the given grads
// (so accumulation is checked too). dx is skipped when with_dx is false.
Result run(int in, int out, const Tensor& x, const Tensor& dy, const std::vector<float>& w,
           const std::vector<float>& b, const std::vector<float>& dw0,
           const std::vector<float>& db0, bool reference, bool with_dx = true) {
  detail::use_reference_kernels = reference;
  auto layer = make_dense(in, out);
  auto ps = layer->params();
  ps[0]->value.data = w;
  ps[1]->value.data = b;
  ps[0]->grad.data = dw0;
  ps[1]->grad.data = db0;
  Result r;
  layer->forward(x, r.y, ForwardContext{true, nullptr});
  layer->backward(x, r.y, dy, with_dx ? &r.dx : nullptr);
  r.dw = ps[0]->grad.data;
  r.db = ps[1]->grad.data;
  detail::use_reference_kernels = false;
  return r;
}

// |got - want| <= 1e-6 * (sum of the absolute values of the terms summed): a few float roundings
// of the largest partial sum, far below one missing term (>= 0.25).
void expect_close(const std::vector<float>& got, const std::vector<float>& want,
                  const std::vector<double>& abs_sum, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i) {
    const double tol = 1e-6 * abs_sum[i];
    if (!(std::fabs(double(got[i]) - double(want[i])) <= tol)) {
      ADD_FAILURE() << what << " element " << i << ": fast " << got[i] << ", reference " << want[i]
                    << ", tolerance " << tol;
      ++bad;
    }
  }
}

TEST(DenseKernels, MatchReferenceOnAwkwardShapes) {
  Rng rng(7);
  // With 16-lane vectors, in = 50 leaves 3 vectors and 2 floats, 80 one 4-vector block and one
  // vector, 100 a block, 2 vectors and 4 floats; outputs and items leave 0 to 3 rows after the
  // 4-row tiles.
  for (int in : {1, 15, 16, 17, 33, 50, 64, 65, 80, 100, 2400})
    for (int out : {1, 2, 3, 4, 5, 6, 12, 169})
      for (int n : {1, 2, 3, 5, 6, 32, 100}) {
        const std::string shape = fmt::format("in {} out {} batch {}", in, out, n);
        Tensor x({n, in}), dy({n, out});
        fill(x, rng);
        fill(dy, rng);
        std::vector<float> w(size_t(out) * in), b(static_cast<size_t>(out)), dw0(w.size()),
            db0(b.size());
        fill(w, rng);
        fill(b, rng);
        fill(dw0, rng);
        fill(db0, rng);
        const Result ref = run(in, out, x, dy, w, b, dw0, db0, true);
        const Result fast = run(in, out, x, dy, w, b, dw0, db0, false);
        // Absolute sums of each output's terms, for the tolerance.
        std::vector<double> ay(size_t(n) * out), adw(w.size()), adb(b.size()), adx(x.size());
        for (int k = 0; k < n; ++k)
          for (int o = 0; o < out; ++o) {
            double s = std::fabs(b[o]);
            for (int i = 0; i < in; ++i)
              s += std::fabs(double(w[size_t(o) * in + i]) * x[size_t(k) * in + i]);
            ay[size_t(k) * out + o] = s;
          }
        for (int o = 0; o < out; ++o) {
          adb[o] = std::fabs(db0[o]);
          for (int k = 0; k < n; ++k) adb[o] += std::fabs(dy[size_t(k) * out + o]);
          for (int i = 0; i < in; ++i) {
            double s = std::fabs(dw0[size_t(o) * in + i]);
            for (int k = 0; k < n; ++k)
              s += std::fabs(double(dy[size_t(k) * out + o]) * x[size_t(k) * in + i]);
            adw[size_t(o) * in + i] = s;
          }
        }
        for (int k = 0; k < n; ++k)
          for (int i = 0; i < in; ++i) {
            double s = 0;
            for (int o = 0; o < out; ++o)
              s += std::fabs(double(dy[size_t(k) * out + o]) * w[size_t(o) * in + i]);
            adx[size_t(k) * in + i] = s;
          }
        expect_close(fast.y.data, ref.y.data, ay, shape + " y");
        expect_close(fast.dw, ref.dw, adw, shape + " dW");
        expect_close(fast.db, ref.db, adb, shape + " db");
        expect_close(fast.dx.data, ref.dx.data, adx, shape + " dx");
        EXPECT_EQ(fast.y.shape, ref.y.shape) << shape;
        EXPECT_EQ(fast.dx.shape, x.shape) << shape;
        // Without dx the parameter gradients are the same, bit for bit.
        const Result no_dx = run(in, out, x, dy, w, b, dw0, db0, false, false);
        EXPECT_EQ(no_dx.dw, fast.dw) << shape;
        EXPECT_EQ(no_dx.db, fast.db) << shape;
        if (HasFailure()) return;
      }
}

// An item's output and input gradient do not depend on the batch around it: every element is
// summed in one fixed order whichever tile or remainder path computes it. (Evaluation runs
// batches of 256 and training 32, with a short last batch.)
TEST(DenseKernels, ItemResultsIndependentOfBatch) {
  Rng rng(3);
  for (int in : {7, 33, 2400})
    for (int out : {5, 169}) {
      const int n = 103;
      Tensor x({n, in}), dy({n, out});
      fill(x, rng);
      fill(dy, rng);
      std::vector<float> w(size_t(out) * in), b(static_cast<size_t>(out)), zw(w.size()),
          zb(b.size());
      fill(w, rng);
      fill(b, rng);
      const Result all = run(in, out, x, dy, w, b, zw, zb, false);
      for (int k : {0, 1, 4, 50, 101, 102}) {
        Tensor xk({1, in}), dyk({1, out});
        std::copy_n(x.ptr() + size_t(k) * in, in, xk.ptr());
        std::copy_n(dy.ptr() + size_t(k) * out, out, dyk.ptr());
        const Result one = run(in, out, xk, dyk, w, b, zw, zb, false);
        for (int o = 0; o < out; ++o)
          ASSERT_EQ(one.y[size_t(o)], all.y[size_t(k) * out + o])
              << "in " << in << " out " << out << " item " << k << " output " << o;
        for (int i = 0; i < in; ++i)
          ASSERT_EQ(one.dx[size_t(i)], all.dx[size_t(k) * in + i])
              << "in " << in << " out " << out << " item " << k << " input " << i;
      }
      // And a second run gives the same bits.
      const Result again = run(in, out, x, dy, w, b, zw, zb, false);
      EXPECT_EQ(again.y.data, all.y.data);
      EXPECT_EQ(again.dw, all.dw);
      EXPECT_EQ(again.dx.data, all.dx.data);
    }
}

}  // namespace
