// Finite-difference checks of every layer's backward (dx and each param grad), for both the fast
// kernels and the reference loops, plus the layer contracts: config round trip, seeded init,
// eval-mode identity of the stochastic layers, grad accumulation and overwritten dx.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <new>
#include <numeric>

#include "dkws/error.hpp"
#include "dkws/nn/layers.hpp"
#include "gradcheck_util.hpp"
#include "nn/layer_util.hpp"

using namespace dkws;
using namespace dkws::nn;
using namespace dkws::nn::gradtest;

// Counts heap allocations in this test binary, for the no-allocation-after-warm-up test. Not
// inlined, so the compiler does not pair their malloc/free with new/delete call sites and warn.
static std::atomic<long> g_allocations{0};
[[gnu::noinline]] void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace {

class GradCheck : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Kernels, GradCheck, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "reference" : "fast"; });

TEST_P(GradCheck, Dense) {
  KernelMode mode(GetParam());
  for (auto [in, out, n] : {std::tuple{7, 5, 3}, {20, 11, 2}, {33, 1, 2}, {16, 17, 3}}) {
    auto l = initialised(make_dense(in, out), 1);
    gradcheck(*l, random_input({n, in}, 2), fmt::format("dense {}->{} N{}", in, out, n));
  }
}

TEST_P(GradCheck, Conv1D) {
  KernelMode mode(GetParam());
  struct C {
    int in, out, k, len, n;
  };
  // Odd and even kernels, a kernel longer than the sequence, output counts either side of the 8-
  // and 16-lane tiles.
  for (auto c : {C{3, 5, 3, 7, 2}, C{2, 9, 2, 6, 3}, C{4, 17, 4, 5, 2}, C{1, 3, 5, 4, 2},
                 C{13, 8, 3, 9, 2}, C{8, 16, 3, 11, 2}, C{5, 24, 1, 4, 2},
                 C{13, 2, 3, 6, 2}}) {  // few outputs, long rows: the dot-product orientation
    auto l = initialised(make_conv1d(c.in, c.out, c.k), 3);
    gradcheck(*l, random_input({c.n, c.len, c.in}, 4),
              fmt::format("conv1d {}->{} k{} L{} N{}", c.in, c.out, c.k, c.len, c.n));
  }
}

TEST_P(GradCheck, Conv2D) {
  KernelMode mode(GetParam());
  struct C {
    int in, out, kh, kw, h, w, n;
  };
  for (auto c : {C{1, 8, 3, 3, 5, 4, 2}, C{3, 5, 2, 3, 4, 5, 2}, C{2, 17, 4, 2, 3, 3, 2},
                 C{5, 16, 1, 1, 3, 2, 3}, C{8, 6, 3, 3, 4, 3, 2}, C{1, 2, 5, 3, 3, 6, 2},
                 C{9, 1, 3, 3, 4, 3, 2},
                 // one input channel, 3x3: the planar path (out 1, 2, 4) and its neighbour (16)
                 C{1, 1, 3, 3, 3, 5, 2}, C{1, 2, 3, 3, 7, 3, 2}, C{1, 4, 3, 3, 6, 5, 3},
                 C{1, 16, 3, 3, 4, 4, 2}}) {
    auto l = initialised(make_conv2d(c.in, c.out, c.kh, c.kw), 5);
    gradcheck(
        *l, random_input({c.n, c.h, c.w, c.in}, 6),
        fmt::format("conv2d {}->{} {}x{} on {}x{} N{}", c.in, c.out, c.kh, c.kw, c.h, c.w, c.n));
  }
}

TEST_P(GradCheck, MaxPool1D) {
  KernelMode mode(GetParam());
  for (auto [pool, same, len] : {std::tuple{2, true, 7},
                                 {3, true, 7},
                                 {2, false, 7},
                                 {3, false, 8},
                                 {2, true, 8},
                                 {4, true, 5}}) {
    auto l = make_maxpool1d(pool, same);
    gradcheck(*l, random_input({3, len, 13}, 7, true),  // 13 channels: 8-, 4- and 1-lane paths
              fmt::format("maxpool1d p{} same={} L{}", pool, same, len));
  }
}

TEST_P(GradCheck, MaxPool2D) {
  KernelMode mode(GetParam());
  for (auto [pool, same, h, w] : {std::tuple{2, true, 5, 7},
                                  {2, false, 5, 7},
                                  {3, true, 7, 5},
                                  {3, false, 7, 6},
                                  {2, true, 4, 4}}) {
    auto l = make_maxpool2d(pool, same);
    gradcheck(*l, random_input({2, h, w, 13}, 8, true),
              fmt::format("maxpool2d p{} same={} {}x{}", pool, same, h, w));
  }
}

// Max-pool backward overwrites all of dx (it arrives dirty here), the cells no 'valid' window
// covers included, and routes dy to each window's first maximum in scan order.
TEST(Layers, MaxPool2DValidBackwardWritesEveryCell) {
  for (auto [h, w, ch] : {std::tuple{5, 7, 3}, {4, 6, 8}, {3, 3, 13}}) {
    auto l = make_maxpool2d(2, false);
    const Tensor x = random_input({2, h, w, ch}, 31, true);
    Tensor y, dx(x.shape);
    l->forward(x, y, {});
    const Tensor dy = random_input(y.shape, 32);
    std::fill(dx.data.begin(), dx.data.end(), 123.f);
    l->backward(x, y, dy, &dx);
    std::vector<float> want(x.size(), 0.f);  // first maximum of each window, in scan order
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < h / 2; ++i)
        for (int j = 0; j < w / 2; ++j)
          for (int c = 0; c < ch; ++c) {
            size_t best = 0;
            for (int a = 0; a < 2; ++a)
              for (int b = 0; b < 2; ++b) {
                const size_t k = ((size_t(n) * h + 2 * i + a) * w + 2 * j + b) * ch + c;
                if ((a == 0 && b == 0) || x[k] > x[best]) best = k;
              }
            want[best] = dy[((size_t(n) * (h / 2) + i) * (w / 2) + j) * ch + c];
          }
    EXPECT_EQ(dx.data, want) << h << "x" << w << "x" << ch;
  }
}

TEST_P(GradCheck, ShapeLayers) {
  KernelMode mode(GetParam());
  gradcheck(*make_relu(), random_input({3, 4, 5}, 9, true), "relu");
  gradcheck(*make_flatten(), random_input({2, 3, 4, 2}, 10), "flatten");
  gradcheck(*make_reshape({3, 4}), random_input({2, 12}, 11), "reshape");
}

TEST_P(GradCheck, StochasticLayersWithFixedDraws) {
  KernelMode mode(GetParam());
  Rng rng;
  auto reseed = [&] { rng.reseed(1234); };
  gradcheck(*make_dropout(0.4f), random_input({3, 10}, 12), "dropout", true, reseed, &rng);
  gradcheck(*make_gaussian_noise(0.5f), random_input({3, 10}, 13), "noise", true, reseed, &rng);
}

// ----- Contracts -------------------------------------------------------------------------------

TEST(Layers, DropoutBackwardUsesForwardMask) {
  auto l = make_dropout(0.25f);
  Rng rng(5);
  Tensor x = random_input({4, 50}, 14, true), y, dy = random_input({4, 50}, 15), dx;
  l->forward(x, y, {true, &rng});
  l->backward(x, y, dy, &dx);
  int dropped = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float scale = y[i] / x[i];
    ASSERT_TRUE(scale == 0.f || std::abs(scale - 1.f / 0.75f) < 1e-6f) << scale;
    dropped += scale == 0.f;
    EXPECT_FLOAT_EQ(dx[i], dy[i] * scale);
  }
  EXPECT_GT(dropped, 20);  // 200 draws at rate 0.25: about 50
  EXPECT_LT(dropped, 80);
  // Same seed, same mask.
  Rng again(5);
  Tensor y2;
  l->forward(x, y2, {true, &again});
  EXPECT_EQ(y.data, y2.data);
  // Element i is kept exactly when the i-th word of rng.fill_u32() is >= ceil(rate * 2^32), and
  // the layer leaves the generator where that one bulk call would.
  for (float rate : {0.3f, 0.25f, 1e-9f}) {
    auto d = make_dropout(rate);
    Rng rng(11), ref(11);
    d->forward(x, y2, {true, &rng});
    std::vector<uint32_t> words(x.size());
    ref.fill_u32(words.data(), words.size());
    const uint64_t threshold = uint64_t(std::ceil(double(rate) * 0x1.0p32));
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(y2[i] != 0.f, words[i] >= threshold) << "rate " << rate << " element " << i;
    EXPECT_EQ(rng.next_u64(), ref.next_u64());
  }
}

// The keep fraction is 1 - rate and kept elements are scaled by exactly 1/(1-rate), at the sweep's
// activation size; y and dx hold exactly x * mask and dy * mask.
TEST(Layers, DropoutKeepFractionAndScale) {
  Tensor x({32, 10400}), dy({32, 10400}), y, dx;
  Rng fill(21);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = 1.f + float(fill.uniform());
    dy[i] = float(fill.uniform()) - 0.5f;
  }
  for (float rate : {0.1f, 0.3f, 0.5f}) {
    SCOPED_TRACE(rate);
    auto d = make_dropout(rate);
    Rng rng(uint64_t(rate * 100));
    d->forward(x, y, {true, &rng});
    d->backward(x, y, dy, &dx);
    const float scale = 1.f / (1.f - rate);
    size_t kept = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const bool keep = y[i] != 0.f;
      kept += keep;
      ASSERT_EQ(y[i], keep ? x[i] * scale : 0.f) << i;
      ASSERT_EQ(dx[i], keep ? dy[i] * scale : 0.f * dy[i]) << i;
    }
    const double n = double(x.size()), p = 1.0 - rate;
    EXPECT_LT(std::abs(double(kept) / n - p), 5 * std::sqrt(p * (1 - p) / n));
    // Runs of the same decision have the geometric lengths of independent draws: the number of
    // keep/drop switches between neighbours is 2 p (1 - p) n on average.
    size_t switches = 0;
    for (size_t i = 1; i < x.size(); ++i) switches += (y[i] != 0.f) != (y[i - 1] != 0.f);
    const double q = 2 * p * (1 - p);
    EXPECT_LT(std::abs(double(switches) / n - q), 5 * std::sqrt(q * (1 - q) / n) * 2);
  }
}

TEST(Layers, StochasticLayersAreIdentityInEval) {
  Tensor x = random_input({3, 6, 2}, 16), y, dx, dy = random_input({3, 6, 2}, 17);
  for (auto& l : {make_dropout(0.5f), make_gaussian_noise(1.f)}) {
    SCOPED_TRACE(l->kind());
    Rng rng(1);
    l->forward(x, y, {false, &rng});
    EXPECT_EQ(y.data, x.data);
    l->backward(x, y, dy, &dx);
    EXPECT_EQ(dx.data, dy.data);
    l->forward(x, y, {false, nullptr});  // no rng needed at inference
    EXPECT_EQ(y.data, x.data);
    EXPECT_THROW(l->forward(x, y, {true, nullptr}), Error);
  }
}

TEST(Layers, GaussianNoiseDrawsScaledNormals) {
  auto l = make_gaussian_noise(0.5f);
  Rng rng(3), ref(3);
  Tensor x = random_input({2, 5}, 18), y;
  l->forward(x, y, {true, &rng});
  std::vector<float> z(x.size());
  ref.fill_normal(z.data(), z.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i] + 0.5f * z[i]);  // 0.5 z is exact
  // A spare normal cached by rng.normal() is left alone, and the generator handed back is where
  // one bulk call leaves it.
  rng.normal();
  ref.normal();
  Tensor odd = random_input({1, 7}, 26);
  l->forward(odd, y, {true, &rng});
  ref.fill_normal(z.data(), 7);
  EXPECT_EQ(rng.normal(), ref.normal());
  EXPECT_EQ(rng.next_u64(), ref.next_u64());
  // At the sweep's input size the added noise has the requested standard deviation.
  Tensor big({32, 650}), yb;
  l->forward(big, yb, {true, &rng});
  double s2 = 0;
  for (float v : yb.data) s2 += double(v) * v;
  EXPECT_NEAR(std::sqrt(s2 / double(big.size())), 0.5, 0.5 * 5 / std::sqrt(2.0 * big.size()));
}

std::vector<std::unique_ptr<Layer>> one_of_each() {
  std::vector<std::unique_ptr<Layer>> v;
  v.push_back(make_dense(12, 5));
  v.push_back(make_conv1d(13, 8, 3));
  v.push_back(make_conv2d(4, 6, 3, 2));
  v.push_back(make_maxpool1d(2, true));
  v.push_back(make_maxpool2d(3, false));
  v.push_back(make_relu());
  v.push_back(make_dropout(0.1f));
  v.push_back(make_gaussian_noise(0.3f));
  v.push_back(make_flatten());
  v.push_back(make_reshape({50, 13, 1}));
  return v;
}

TEST(Layers, ConfigRoundTrips) {
  for (auto& l : one_of_each()) {
    SCOPED_TRACE(l->config().dump());
    auto copy = make_layer(l->config());
    EXPECT_EQ(copy->kind(), l->kind());
    EXPECT_EQ(copy->config(), l->config());
    EXPECT_EQ(copy->params().size(), l->params().size());
    for (size_t i = 0; i < l->params().size(); ++i) {
      EXPECT_EQ(copy->params()[i]->name, l->params()[i]->name);
      EXPECT_EQ(copy->params()[i]->value.shape, l->params()[i]->value.shape);
    }
    Rng rng(1);
    auto clone = l->clone_shape(rng);
    EXPECT_EQ(clone->config(), l->config());
  }
  EXPECT_EQ(make_conv1d(13, 8, 3)->config(),
            nlohmann::json::parse(R"({"kind":"conv1d","in":13,"out":8,"kernel":3})"));
  // A square conv2d kernel may be written as one number.
  EXPECT_EQ(make_layer({{"kind", "conv2d"}, {"in", 1}, {"out", 8}, {"kernel", 3}})->config(),
            make_conv2d(1, 8, 3, 3)->config());
}

TEST(Layers, MakeLayerNamesTheProblem) {
  auto expect_error = [](const nlohmann::json& cfg, const std::string& needle) {
    try {
      make_layer(cfg);
      ADD_FAILURE() << "no error for " << cfg.dump();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error({{"kind", "conv3d"}}, "conv3d");
  expect_error({{"in", 3}}, "kind");
  expect_error(nlohmann::json::array(), "object");
  expect_error({{"kind", "conv1d"}, {"in", 13}, {"out", 8}}, "kernel");
  expect_error({{"kind", "dense"}, {"in", "12"}, {"out", 3}}, "in");
  expect_error({{"kind", "dense"}, {"in", 0}, {"out", 3}}, "positive");
  expect_error({{"kind", "maxpool1d"}, {"pool", 2}, {"same", 1}}, "same");
  expect_error({{"kind", "dropout"}, {"rate", 1.0}}, "rate");
  expect_error({{"kind", "conv2d"}, {"in", 1}, {"out", 8}, {"kernel", {3, 3, 3}}}, "kernel");
  expect_error({{"kind", "reshape"}, {"shape", {50, -13}}}, "reshape");
}

TEST(Layers, WrongInputShapeThrows) {
  Tensor y;
  EXPECT_THROW(make_conv1d(13, 8, 3)->forward(Tensor({2, 50, 12}), y, {}), Error);
  EXPECT_THROW(make_conv2d(1, 8, 3, 3)->forward(Tensor({2, 50, 13}), y, {}), Error);
  EXPECT_THROW(make_dense(10, 3)->forward(Tensor({2, 11}), y, {}), Error);
  EXPECT_THROW(make_reshape({50, 13})->forward(Tensor({2, 651}), y, {}), Error);
  EXPECT_THROW(make_maxpool1d(4, false)->forward(Tensor({2, 3, 1}), y, {}), Error);
}

TEST(Layers, InitIsSeededGlorotWithZeroBias) {
  for (auto& l : one_of_each()) {
    if (l->params().empty()) continue;
    SCOPED_TRACE(l->kind());
    auto a = make_layer(l->config()), b = make_layer(l->config()), c = make_layer(l->config());
    Rng ra(42), rb(42), rc(43);
    a->init(ra);
    b->init(rb);
    c->init(rc);
    const auto& wa = a->params()[0]->value.data;
    EXPECT_EQ(wa, b->params()[0]->value.data);  // bit-identical
    EXPECT_NE(wa, c->params()[0]->value.data);
    for (float v : a->params()[1]->value.data) EXPECT_EQ(v, 0.f);
    // Every weight inside the Glorot limit, and the limit nearly reached.
    const Shape& s = a->params()[0]->value.shape;
    const double receptive = double(shape_size(s)) / s[0] / s.back();
    const double fan_in = receptive * s.back(), fan_out = receptive * s[0];
    const double limit = std::sqrt(6.0 / (fan_in + fan_out));
    float biggest = 0;
    for (float v : wa) biggest = std::max(biggest, std::abs(v));
    EXPECT_LE(biggest, limit);
    EXPECT_GT(biggest, 0.7 * limit);
  }
}

TEST(Layers, ParamGradsAccumulate) {
  for (auto& l : one_of_each()) {
    if (l->params().empty()) continue;
    SCOPED_TRACE(l->kind());
    Rng rng(7);
    l->init(rng);
    const Shape in = l->kind() == "dense"    ? Shape{2, 12}
                     : l->kind() == "conv1d" ? Shape{2, 9, 13}
                                             : Shape{2, 5, 4, 4};
    Tensor x = random_input(in, 19), y, dy, dx;
    l->forward(x, y, {});
    dy = random_input(y.shape, 20);
    for (Param* p : l->params()) p->grad.zero();
    l->backward(x, y, dy, nullptr);  // no input gradient asked for
    std::vector<Tensor> once;
    for (Param* p : l->params()) once.push_back(p->grad);
    l->backward(x, y, dy, &dx);
    for (size_t i = 0; i < once.size(); ++i)
      for (size_t k = 0; k < once[i].size(); ++k)
        EXPECT_NEAR(l->params()[i]->grad[k], 2 * once[i][k], 1e-5 * (1 + std::abs(once[i][k])));
  }
}

// The fast kernels against the reference loops at the sizes the KWS models use.
TEST(Layers, FastKernelsMatchReference) {
  struct C {
    std::function<std::unique_ptr<Layer>()> make;
    Shape in;
  };
  const std::vector<C> cases = {
      {[] { return make_conv1d(13, 8, 3); }, {3, 50, 13}},
      {[] { return make_conv1d(8, 16, 3); }, {3, 25, 8}},
      {[] { return make_conv1d(6, 12, 4); }, {2, 13, 6}},
      {[] { return make_conv2d(1, 8, 3, 3); }, {3, 50, 13, 1}},
      {[] { return make_conv2d(1, 4, 3, 3); }, {32, 50, 13, 1}},
      {[] { return make_conv2d(1, 2, 3, 3); }, {5, 50, 13, 1}},
      {[] { return make_conv2d(8, 16, 3, 3); }, {2, 25, 6, 8}},
      {[] { return make_conv2d(16, 32, 3, 3); }, {2, 12, 3, 16}},
      {[] { return make_conv2d(4, 6, 3, 3); }, {2, 7, 5, 4}},
      {[] { return make_conv1d(16, 2, 3); }, {2, 25, 16}},  // dot-product orientation forward
      // Narrow layers of the small AudioClassifier widths, a non-square kernel, a 1x2 image.
      {[] { return make_conv2d(4, 4, 3, 3); }, {3, 25, 6, 4}},
      {[] { return make_conv2d(2, 4, 3, 3); }, {2, 25, 6, 2}},
      {[] { return make_conv2d(4, 2, 3, 3); }, {2, 12, 3, 4}},
      {[] { return make_conv2d(8, 1, 3, 2); }, {2, 6, 5, 8}},
      {[] { return make_conv2d(3, 4, 2, 3); }, {1, 1, 2, 3}},
      {[] { return make_conv1d(8, 4, 3); }, {3, 25, 8}},
      // The 2x2 'valid' pool's kernels against the general argmax path, odd sizes and the
      // channel counts with compile-time loops (and one without).
      {[] { return make_maxpool2d(2, false); }, {3, 25, 7, 4}},
      {[] { return make_maxpool2d(2, false); }, {2, 5, 13, 16}},
      {[] { return make_maxpool2d(2, false); }, {2, 6, 6, 3}},
      {[] { return make_maxpool2d(2, false); }, {2, 4, 5, 12}},
      {[] { return make_maxpool2d(2, false); }, {2, 7, 3, 1}},
      {[] { return make_dense(208, 3); }, {3, 208}},
      {[] { return make_dense(650, 25); }, {2, 650}},
  };
  for (const auto& c : cases) {
    auto fast = initialised(c.make(), 21), ref = make_layer(fast->config());
    SCOPED_TRACE(fast->config().dump());
    for (size_t i = 0; i < fast->params().size(); ++i)
      ref->params()[i]->value = fast->params()[i]->value;
    Tensor x = random_input(c.in, 22), yf, yr, dxf, dxr;
    fast->forward(x, yf, {});
    Tensor dy = random_input(yf.shape, 23);
    fast->backward(x, yf, dy, &dxf);
    {
      KernelMode mode(true);
      ref->forward(x, yr, {});
      ref->backward(x, yr, dy, &dxr);
    }
    auto near = [](const Tensor& a, const Tensor& b, const char* what) {
      ASSERT_EQ(a.shape, b.shape) << what;
      for (size_t i = 0; i < a.size(); ++i)
        ASSERT_NEAR(a[i], b[i], 1e-4 * (1 + std::abs(b[i]))) << what << "[" << i << "]";
    };
    near(yf, yr, "y");
    near(dxf, dxr, "dx");
    for (size_t i = 0; i < fast->params().size(); ++i)
      near(fast->params()[i]->grad, ref->params()[i]->grad, fast->params()[i]->name.c_str());
  }
}

// After one batch has sized the buffers, forward and backward allocate nothing.
TEST(Layers, NoAllocationAfterFirstBatch) {
  struct C {
    std::unique_ptr<Layer> layer;
    Shape in;
  };
  C cases[] = {
      {make_conv1d(13, 8, 3), {4, 50, 13}},
      {make_conv1d(8, 12, 4), {4, 25, 8}},
      {make_conv2d(1, 8, 3, 3), {4, 50, 13, 1}},
      {make_conv2d(8, 6, 3, 3), {4, 25, 6, 8}},
      {make_dense(208, 3), {4, 208}},
      {make_maxpool1d(2, true), {4, 25, 16}},
      {make_maxpool2d(2, true), {4, 25, 7, 8}},
      {make_relu(), {4, 10}},
      {make_dropout(0.25f), {4, 10}},
      {make_gaussian_noise(0.1f), {4, 10}},
      {make_flatten(), {4, 5, 2}},
      {make_reshape({5, 2}), {4, 10}},
  };
  for (auto& c : cases) {
    Rng rng(1);
    c.layer->init(rng);
    Tensor x = random_input(c.in, 24), y, dy, dx;
    const ForwardContext ctx{true, &rng};
    c.layer->forward(x, y, ctx);
    dy = random_input(y.shape, 25);
    c.layer->backward(x, y, dy, &dx);
    const long before = g_allocations.load();
    for (int rep = 0; rep < 2; ++rep) {
      c.layer->forward(x, y, ctx);
      c.layer->backward(x, y, dy, &dx);
      c.layer->backward(x, y, dy, nullptr);
    }
    EXPECT_EQ(g_allocations.load() - before, 0) << c.layer->config().dump();
  }
}

TEST(Layers, PoolShapesFollowKerasSameAndTorchValid) {
  EXPECT_EQ(make_maxpool1d(2, true)->output_shape({4, 50, 8}), (Shape{4, 25, 8}));
  EXPECT_EQ(make_maxpool1d(2, true)->output_shape({4, 25, 16}), (Shape{4, 13, 16}));
  EXPECT_EQ(make_maxpool1d(2, false)->output_shape({4, 25, 16}), (Shape{4, 12, 16}));
  EXPECT_EQ(make_maxpool2d(2, false)->output_shape({4, 50, 13, 8}), (Shape{4, 25, 6, 8}));
  EXPECT_EQ(make_maxpool2d(2, true)->output_shape({4, 50, 13, 8}), (Shape{4, 25, 7, 8}));
  // Keras 'same', pool 3 over 7: 3 outputs, padding 2 split 1 before / 1 after.
  auto l = make_maxpool1d(3, true);
  Tensor x({1, 7, 1}), y;
  for (int i = 0; i < 7; ++i) x[size_t(i)] = float(10 - i);  // decreasing: max is window start
  l->forward(x, y, {});
  EXPECT_EQ(y.data, (std::vector<float>{10, 8, 5}));
}

TEST(Layers, MacsPerItem) {
  EXPECT_EQ(make_conv1d(13, 8, 3)->macs_per_item({1, 50, 13}), 50 * 8 * 3 * 13);
  EXPECT_EQ(make_conv2d(1, 8, 3, 3)->macs_per_item({1, 50, 13, 1}), 50 * 13 * 8 * 9);
  EXPECT_EQ(make_dense(208, 3)->macs_per_item({1, 208}), 208 * 3);
  EXPECT_EQ(make_relu()->macs_per_item({1, 5}), 0);
}

}  // namespace
