// int8 export of the DS-CNN family without data: the depthwise conv and global average pool as
// int8 stages, hand-checked kernels (depthwise taps per channel, the average's rounding), and the
// whole quantized network, dendrites on its pointwise convs included, against the float model.
#include <gtest/gtest.h>

#include <cmath>

#include "deploy_test_util.hpp"

namespace {

using namespace dkws;
using namespace dkws::testing;

TEST(QuantizeDsCnn, StagesFollowTheFloatModel) {
  Rng rng(21);
  SavedModel m = ds_cnn_model(rng);
  const FeatureSet calib = random_features(300, 5), eval = random_features(300, 6);
  const deploy::QModel q = deploy::quantize(m, calib);
  using K = deploy::QLayer;
  // conv+relu, pool, [dw+relu, pw+relu, pool], [dw+relu, pw+relu], avgpool, dense.
  const std::vector<K::Kind> want = {K::kConv,      K::kPool, K::kDepthwise, K::kConv, K::kPool,
                                     K::kDepthwise, K::kConv, K::kAvgPool,   K::kConv};
  std::vector<K::Kind> kinds;
  for (const auto& l : q.layers) kinds.push_back(l.kind);
  ASSERT_EQ(kinds, want);
  const K& dw = q.layers[2];
  EXPECT_TRUE(dw.relu);
  EXPECT_EQ(dw.dendrites, 0);
  EXPECT_EQ(dw.weight.size(), 8u * 3u);  // [C][k]
  EXPECT_EQ(dw.h, 25);
  EXPECT_EQ(q.layers[3].dendrites, 2);  // pointwise conv1d
  EXPECT_EQ(q.layers[3].kh, 1);
  EXPECT_EQ(q.layers[7].h * q.layers[7].w, 13);  // avgpool over the 13 remaining frames
  EXPECT_EQ(q.layers[7].out_zp, q.layers[7].in_zp);
  EXPECT_EQ(q.layers[8].dendrites, 2);

  const Int8VsFloat cmp = compare_int8_to_float(q, m, eval);
  std::printf("ds_cnn int8 vs float: mean |error| / mean |logit| %.4f, argmax agreement %.3f\n",
              cmp.relative_error, cmp.agreement);
  EXPECT_LT(cmp.relative_error, 0.08);
  EXPECT_GE(cmp.agreement, 0.85);
}

deploy::QLayer one_channel_layer(deploy::QLayer::Kind kind, int len, int channels) {
  deploy::QLayer l;
  l.kind = kind;
  l.name = "test";
  l.h = len;
  l.cin = l.cout = channels;
  l.oh = kind == deploy::QLayer::kAvgPool ? 1 : len;
  return l;
}

// The mean at the input's scale, rounded half away from zero around the zero point.
TEST(QuantizeDsCnn, AveragePoolRoundsHalfAwayFromZero) {
  deploy::QModel q;
  q.layers.push_back(one_channel_layer(deploy::QLayer::kAvgPool, 4, 3));
  q.layers[0].in_zp = q.layers[0].out_zp = -3;
  // channel 0: x - zp = 1, 2, 2, 1 (mean 1.5 -> 2); channel 1: -1, -2, -2, -1 (-1.5 -> -2);
  // channel 2: 5, 0, 0, 0 (1.25 -> 1).
  const std::vector<int8_t> in = {-2, -4, 2, -1, -5, -3, -1, -5, -3, -2, -4, -3};
  EXPECT_EQ(deploy::run_int8(q, in.data()), (std::vector<int8_t>{-1, -5, -2}));
}

// Each channel its own taps, zero padding at the real 0 (the zero point), then ReLU at out_zp.
TEST(QuantizeDsCnn, DepthwiseUsesEachChannelsOwnTaps) {
  deploy::QModel q;
  deploy::QLayer l = one_channel_layer(deploy::QLayer::kDepthwise, 3, 2);
  l.kh = 3;
  l.pad_h = 1;
  l.in_zp = 1;
  l.out_zp = -10;
  l.relu = true;
  l.weight = {1, 2, 3, -1, -1, -1};
  l.bias = {0, 4};
  l.acc_mul = {deploy::quantize_multiplier(1.0), deploy::quantize_multiplier(1.0)};
  q.layers.push_back(l);
  // x - zp: channel 0 = 1, 2, 3; channel 1 = 4, 5, -20.
  const std::vector<int8_t> in = {2, 5, 3, 6, 4, -19};
  // channel 0: [0 1 2].w = 8, [1 2 3].w = 14, [2 3 0].w = 8 -> y = -10 + acc.
  // channel 1: 4 - (0+4+5) = -5, 4 - (4+5-20) = 15, 4 - (5-20) = 19; ReLU clamps -15 to -10.
  EXPECT_EQ(deploy::run_int8(q, in.data()), (std::vector<int8_t>{-2, -10, 4, 5, -2, 9}));
}

}  // namespace
