// The fused Conv2D -> ReLU -> MaxPool2D(2) [-> Dropout] block against the same layers run one by
// one: forward bit for bit (same kernels, same dropout draws), gradients to float rounding (the
// winner-only kernels sum in another order; the dense path, for one input channel, bit for bit).
#include <gtest/gtest.h>

#include <cmath>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/config.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/layers.hpp"
#include "dkws/nn/sequential.hpp"
#include "nn/conv_block.hpp"
#include "nn/conv_tiles.hpp"
#include "nn/conv_winograd.hpp"
#include "nn/layer_util.hpp"

namespace dkws::nn {
namespace {

struct Case {
  int n, h, w, in, out;
  float rate;
};

// max |a - b| relative to max |b| (1 when b is all zero).
double rel_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape, b.shape);
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff = std::max(diff, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(b[i])));
  }
  return diff / (scale > 0 ? scale : 1);
}

void fill_normal(Tensor& t, Rng& rng) {
  for (float& v : t.data) v = float(rng.normal());
}

// Runs one forward and backward both ways and compares.
void check_case(const Case& k, bool want_dx) {
  SCOPED_TRACE(::testing::Message() << k.n << "x" << k.h << "x" << k.w << " " << k.in << "->"
                                    << k.out << " rate " << k.rate << " dx " << want_dx);
  Rng init(3);
  auto conv = make_conv2d(k.in, k.out, 3, 3);
  conv->init(init);
  for (float& b : conv->params()[1]->value.data) b = float(init.uniform(-0.3, 0.3));
  auto relu = make_relu();
  auto pool = make_maxpool2d(2, false);
  auto drop = make_dropout(k.rate);
  Tensor x({k.n, k.h, k.w, k.in});
  Rng data(11);
  fill_normal(x, data);

  // Layers one by one.
  Rng r1(5);
  const ForwardContext ctx1{true, &r1};
  Tensor y1, y2, y3, y4;
  conv->forward(x, y1, ctx1);
  relu->forward(y1, y2, ctx1);
  pool->forward(y2, y3, ctx1);
  drop->forward(y3, y4, ctx1);
  Tensor dz(y4.shape);
  fill_normal(dz, data);
  Tensor g3, g2, g1, dx_ref;
  drop->backward(y3, y4, dz, &g3);
  pool->backward(y2, y3, g3, &g2);
  relu->backward(y1, y2, g2, &g1);
  conv->backward(x, y1, g1, want_dx ? &dx_ref : nullptr);
  const Tensor dw_ref = conv->params()[0]->grad, db_ref = conv->params()[1]->grad;
  for (Param* p : conv->params()) p->grad.zero();

  // The block.
  Rng r2(5);
  const ForwardContext ctx2{true, &r2};
  detail::ConvBlock2x2 block(*conv, k.rate);
  Tensor z, dx;
  block.forward(x.ptr(), x.shape, z, ctx2);
  ASSERT_EQ(z.shape, y4.shape);
  EXPECT_EQ(z.data, y4.data);
  EXPECT_EQ(r1.next_u64(), r2.next_u64()) << "the dropout draws differ";
  block.backward(x, dz, want_dx ? &dx : nullptr);
  const Tensor& dw = conv->params()[0]->grad;
  const Tensor& db = conv->params()[1]->grad;
  EXPECT_LT(rel_diff(dw, dw_ref), 1e-5);
  EXPECT_LT(rel_diff(db, db_ref), 1e-5);
  if (want_dx) {
    EXPECT_LT(rel_diff(dx, dx_ref), 1e-5);
  }
  // One input channel: the dense path, the conv backward on the same dy, unless the one-channel
  // winner kernel takes it (8k outputs, no input gradient; it sums in another order).
  const bool one_channel_winner = k.in == 1 && k.out % 8 == 0 && !want_dx;
  if (k.in == 1 && !one_channel_winner) {
    EXPECT_EQ(dw.data, dw_ref.data);
    EXPECT_EQ(db.data, db_ref.data);
  }
  // The gradient really is sparse per channel: some weight gradient is non-zero.
  double norm = 0;
  for (float v : dw.data) norm += std::fabs(v);
  EXPECT_GT(norm, 0);
}

TEST(ConvBlock, MatchesTheLayersOneByOne) {
  // Input channel counts cover the dense path (1; with 1, 2 or 4 outputs on PlanarConv's grid;
  // 8 outputs without dx take the one-channel winner kernel, with dx the dense path),
  // every winner kernel shape (row vectors 1, 2,
  // 3, 5, 6, 9, 12, 18, 24 for 2, 4, 8, 12, 16, 24, 32, 48, 64 inputs) and odd sizes whose last
  // row or column no window covers.
  const Case cases[] = {{2, 9, 7, 1, 8, 0.25f},  {2, 9, 7, 1, 4, 0.25f},   {2, 6, 5, 1, 2, 0.f},
                        {1, 5, 4, 1, 1, 0.5f},   {2, 8, 6, 2, 4, 0.f},     {3, 7, 5, 3, 6, 0.5f},
                        {2, 6, 6, 4, 4, 0.25f},  {2, 5, 7, 8, 16, 0.25f},  {2, 6, 4, 12, 24, 0.f},
                        {2, 5, 5, 16, 24, 0.1f}, {1, 6, 3, 24, 16, 0.25f}, {1, 4, 4, 32, 8, 0.f},
                        {1, 5, 4, 48, 12, 0.2f}, {1, 4, 3, 64, 32, 0.25f}, {2, 3, 2, 5, 3, 0.25f},
                        {3, 7, 9, 1, 16, 0.25f}, {1, 6, 4, 1, 8, 0.f}};
  for (const Case& k : cases) {
    check_case(k, true);
    check_case(k, false);
  }
}

// One input channel along wide rows: the shared-input tile gives the general tile's bits, for
// the kernel widths it is compiled for, 8 and 16 lane outputs and rows with remainder tiles.
TEST(ConvTiles, OneChannelRowTileEqualsTheGeneralTile) {
  Rng rng(21);
  for (const int kw : {3, 5})
    for (const int opad : {8, 16, 24})
      for (const int w : {8, 13, 22}) {
        SCOPED_TRACE(::testing::Message() << "kw " << kw << " opad " << opad << " w " << w);
        const detail::ConvGeom g{2, 5, w, 1, 3, kw, 1, (kw - 1) / 2};
        std::vector<float> xp(g.padded_size() + detail::ConvEngine::kSlack), wt(3 * kw * opad),
            bias(opad);
        for (auto* v : {&xp, &wt, &bias})
          for (float& f : *v) f = float(rng.normal());
        std::vector<float> shared(size_t(g.n) * g.h * g.w * opad, 0.f), general = shared;
        const auto rows = [&](auto len, auto row1, std::vector<float>& y) {
          detail::conv_forward_rows<decltype(len)::value, decltype(row1)::value>(
              xp.data(), g, wt.data(), bias.data(), opad, y.data(), g.h, g.w);
        };
        if (kw == 3) {
          rows(std::integral_constant<int, 3>{}, std::true_type{}, shared);
          rows(std::integral_constant<int, 3>{}, std::false_type{}, general);
        } else {
          rows(std::integral_constant<int, 5>{}, std::true_type{}, shared);
          rows(std::integral_constant<int, 5>{}, std::false_type{}, general);
        }
        EXPECT_EQ(shared, general);
        // and they computed something: the first output is bias plus the window's products
        float ref = bias[0];
        for (int s = 0; s < 3; ++s)
          for (int j = 0; j < kw; ++j) ref += xp[size_t(s) * g.wp() + j] * wt[(s * kw + j) * opad];
        EXPECT_NEAR(shared[0], ref, 1e-4f);
      }
}

// Conv2D's forward where Winograd's F(2x2, 3x3) applies (3x3, 8 or more input channels), odd
// and even sizes (an odd last row or column is taken directly), channel counts that are not a
// multiple of 8, and images of one row or one column (no 2x2 block: all direct), against the
// reference loops; and a batch of one gives the same bits as the same item in a batch of three.
TEST(ConvWinograd, Conv2DForwardMatchesTheReferenceLoops) {
  struct Shape4 {
    int h, w, in, out;
  };
  for (const Shape4 k :
       {Shape4{6, 4, 8, 16}, Shape4{5, 7, 12, 5}, Shape4{25, 6, 8, 16}, Shape4{12, 3, 16, 24},
        Shape4{1, 6, 8, 8}, Shape4{7, 1, 9, 3}, Shape4{3, 3, 32, 40}}) {
    SCOPED_TRACE(::testing::Message() << k.h << "x" << k.w << " " << k.in << "->" << k.out);
    ASSERT_TRUE(detail::WinogradConv::applies({3, k.h, k.w, k.in, 3, 3, 1, 1}));
    Rng init(4), data(8);
    auto conv = make_conv2d(k.in, k.out, 3, 3);
    conv->init(init);
    for (float& b : conv->params()[1]->value.data) b = float(init.uniform(-0.3, 0.3));
    Tensor x({3, k.h, k.w, k.in}), y, ref;
    fill_normal(x, data);
    const ForwardContext eval{false, nullptr};
    conv->forward(x, y, eval);
    detail::use_reference_kernels = true;
    conv->forward(x, ref, eval);
    detail::use_reference_kernels = false;
    EXPECT_LT(rel_diff(y, ref), 2e-6);
    Tensor one({1, k.h, k.w, k.in}), y1;
    std::copy_n(x.ptr() + x.per_item(), x.per_item(), one.ptr());
    conv->forward(one, y1, eval);
    EXPECT_TRUE(std::equal(y1.data.begin(), y1.data.end(), y.data.begin() + y.per_item()));
  }
}

TEST(ConvBlock, EvalModeHasNoDropout) {
  Rng init(1);
  auto conv = make_conv2d(4, 8, 3, 3);
  conv->init(init);
  detail::ConvBlock2x2 block(*conv, 0.5f);
  Tensor x({2, 6, 6, 4}), z, y1, y2, y3;
  fill_normal(x, init);
  const ForwardContext eval;
  block.forward(x.ptr(), x.shape, z, eval);
  auto relu = make_relu();
  auto pool = make_maxpool2d(2, false);
  conv->forward(x, y1, eval);
  relu->forward(y1, y2, eval);
  pool->forward(y2, y3, eval);
  EXPECT_EQ(z.data, y3.data);
}

TEST(ConvBlock, SequentialFindsOnlyTheBlockPattern) {
  std::vector<std::unique_ptr<Layer>> owned;
  owned.push_back(make_conv2d(1, 4, 3, 3));
  owned.push_back(make_relu());
  owned.push_back(make_maxpool2d(2, false));
  owned.push_back(make_dropout(0.25f));
  owned.push_back(make_conv2d(4, 4, 3, 3));
  owned.push_back(make_relu());
  owned.push_back(make_maxpool2d(2, true));  // 'same' pool: not fused
  owned.push_back(make_conv2d(4, 4, 3, 3));
  owned.push_back(make_relu());
  owned.push_back(make_maxpool2d(2, false));
  std::vector<Layer*> layers;
  for (auto& l : owned) layers.push_back(l.get());
  EXPECT_EQ(detail::ConvBlock2x2::match(layers, 0), 4);
  EXPECT_EQ(detail::ConvBlock2x2::match(layers, 1), 0);
  EXPECT_EQ(detail::ConvBlock2x2::match(layers, 4), 0);
  EXPECT_EQ(detail::ConvBlock2x2::match(layers, 7), 3);
}

// One training step of an AudioClassifier fused and unfused: the same logits and loss bit for bit
// and the same gradients to rounding, the input gradient too.
void check_step(const ModelSpec& spec, int batch) {
  SCOPED_TRACE(::testing::Message() << "conv " << spec.num_conv << " growth " << spec.growth
                                    << " width " << spec.width << " linear " << spec.num_linear);
  const int frames = 50, coeffs = 13, classes = 12;
  Rng init_a(9), init_b(9);
  Sequential a = build_model(spec, frames, coeffs, classes, init_a);
  Sequential b = build_model(spec, frames, coeffs, classes, init_b);
  b.set_fused_blocks(false);
  Tensor x({batch, frames * coeffs});
  Rng data(2);
  fill_normal(x, data);
  std::vector<int> labels;
  for (int i = 0; i < batch; ++i) labels.push_back(int(data.below(classes)));
  Rng ra(4), rb(4);
  Tensor da, db, dxa, dxb;
  const Tensor& la = a.forward(x, {true, &ra});
  const Tensor& lb = b.forward(x, {true, &rb});
  EXPECT_EQ(la.data, lb.data);
  EXPECT_EQ(softmax_cross_entropy(la, labels.data(), da),
            softmax_cross_entropy(lb, labels.data(), db));
  a.backward(da, dxa);
  b.backward(db, dxb);
  EXPECT_LT(rel_diff(dxa, dxb), 1e-5);
  const auto pa = a.params(), pb = b.params();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_LT(rel_diff(pa[i]->grad, pb[i]->grad), 1e-5) << i;
}

TEST(ConvBlock, AudioClassifierStepFusedEqualsUnfused) {
  ModelSpec spec;
  spec.family = "audio_classifier";
  spec.num_conv = 3, spec.num_linear = 2, spec.growth = 0, spec.width = 1.0;
  spec.noise = 0.1;
  check_step(spec, 8);
}

// Every architecture of the paper's search space (conv blocks, growth table, width, dense layers).
TEST(ConvBlock, EverySearchSpaceArchitectureFusedEqualsUnfused) {
  ModelSpec spec;
  spec.family = "audio_classifier";
  spec.dropout = 0.5;
  for (int conv = 1; conv <= 3; ++conv)
    for (int growth = 0; growth <= 5; ++growth)
      for (double width : {0.25, 0.5, 1.0, 2.0}) {
        spec.num_conv = conv, spec.growth = growth, spec.width = width;
        spec.num_linear = 1 + (growth + conv) % 2;
        check_step(spec, 3);
      }
}

// The dendritic arms wrap every conv in a dendrite layer before training. Without dendrites the
// wrapper is transparent and the blocks stay fused, so such a model trains bit for bit like the
// plain one (the arms stay matched until a switch). Once a dendrite is added the layer runs
// unfused: the outputs then equal the fusion-off model's, dendrite included.
TEST(ConvBlock, DendriteWrappersFuseUntilADendriteIsAdded) {
  ModelSpec spec;
  spec.family = "audio_classifier";
  spec.num_conv = 2, spec.num_linear = 1, spec.growth = 0, spec.width = 0.5;
  const int frames = 20, coeffs = 13, classes = 4, batch = 4;
  Rng i1(5), i2(5), i3(5);
  Sequential plain = build_model(spec, frames, coeffs, classes, i1);
  Sequential wrapped = build_model(spec, frames, coeffs, classes, i2);
  Sequential unfused = build_model(spec, frames, coeffs, classes, i3);
  DendriteSpec ds;
  ds.mode = "gd";
  dendrite::wrap_layers(wrapped, ds);
  dendrite::wrap_layers(unfused, ds);
  unfused.set_fused_blocks(false);
  Tensor x({batch, frames * coeffs});
  Rng data(8);
  fill_normal(x, data);
  const std::vector<int> labels = {0, 1, 2, 3};
  auto step = [&](Sequential& net, uint64_t seed) {
    Rng r(seed);
    Tensor d, logits = net.forward(x, {true, &r});
    net.zero_grad();
    softmax_cross_entropy(logits, labels.data(), d);
    net.backward(d);
    return logits;
  };
  EXPECT_EQ(step(wrapped, 3).data, step(plain, 3).data);
  const auto pw = wrapped.params(), pp = plain.params();
  ASSERT_EQ(pw.size(), pp.size());
  for (size_t i = 0; i < pw.size(); ++i) EXPECT_EQ(pw[i]->grad.data, pp[i]->grad.data) << i;

  Rng g1(6), g2(6);
  dendrite::add_gd_dendrites(wrapped, ds, g1);
  dendrite::add_gd_dendrites(unfused, ds, g2);
  for (Sequential* net : {&wrapped, &unfused})
    for (auto* d : dendrite::wrapped_layers(*net))
      d->output_weight(0).value.data.assign(d->output_weight(0).value.size(), 0.5f);
  const Tensor lw = step(wrapped, 4), lu = step(unfused, 4);
  EXPECT_EQ(lw.data, lu.data) << "the fused plan did not follow the added dendrites";
  const auto qw = wrapped.params(), qu = unfused.params();
  ASSERT_EQ(qw.size(), qu.size());
  for (size_t i = 0; i < qw.size(); ++i) EXPECT_LT(rel_diff(qw[i]->grad, qu[i]->grad), 1e-5) << i;
}

}  // namespace
}  // namespace dkws::nn
