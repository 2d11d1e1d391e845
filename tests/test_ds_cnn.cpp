// The DS-CNN family's layers (depthwise conv1d, global average pool) and the scaled model
// families: finite-difference gradients, definitions on hand-checked values, config round trips,
// and the layer lists and parameter counts that ds_cnn and the scaled ei_conv1d build.
#include <gtest/gtest.h>

#include "dkws/config.hpp"
#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/layers.hpp"
#include "gradcheck_util.hpp"

using namespace dkws;
using namespace dkws::nn;
using namespace dkws::nn::gradtest;

namespace {

TEST(DepthwiseConv1D, GradientsMatchFiniteDifferences) {
  struct C {
    int channels, k, len, n;
  };
  // Odd and even kernels, a kernel longer than the sequence, 1 and 13 channels.
  for (auto c : {C{4, 3, 7, 2}, C{5, 4, 6, 2}, C{13, 3, 9, 3}, C{1, 5, 3, 2}, C{8, 1, 4, 2}}) {
    auto l = initialised(make_depthwise_conv1d(c.channels, c.k), 11);
    gradcheck(*l, random_input({c.n, c.len, c.channels}, 12),
              fmt::format("depthwise_conv1d C{} k{} L{} N{}", c.channels, c.k, c.len, c.n));
  }
}

// y[l][c] = b[c] + sum_t w[c][t] x[l + t - 1][c]: each channel sees only its own kernel.
TEST(DepthwiseConv1D, EachChannelUsesOnlyItsOwnKernel) {
  auto l = make_depthwise_conv1d(2, 3);
  auto ps = l->params();
  ps[0]->value.data = {1, 2, 3, 10, 20, 30};
  ps[1]->value.data = {0.5f, -1};
  Tensor x({1, 3, 2});
  x.data = {1, 100, 2, 200, 3, 300};  // channel 0: 1 2 3; channel 1: 100 200 300
  Tensor y;
  l->forward(x, y, {});
  ASSERT_EQ(y.shape, (Shape{1, 3, 2}));
  // channel 0: [0 1 2].w = 8, [1 2 3].w = 14, [2 3 0].w = 8; channel 1 likewise times 1000.
  const std::vector<float> want = {8.5f, 7999, 14.5f, 13999, 8.5f, 7999};
  EXPECT_EQ(y.data, want);
}

TEST(GlobalAvgPool, GradientsMatchFiniteDifferences) {
  for (const Shape& s : {Shape{2, 7, 5}, Shape{3, 1, 4}, Shape{2, 3, 4, 6}}) {
    auto l = make_global_avgpool();
    gradcheck(*l, random_input(s, 13), "global_avgpool " + detail::shape_str(s));
  }
}

TEST(GlobalAvgPool, AveragesEveryPositionPerChannel) {
  auto l = make_global_avgpool();
  Tensor x({2, 2, 2, 1});
  x.data = {1, 2, 3, 6, -4, 0, 0, 0};
  Tensor y;
  l->forward(x, y, {});
  ASSERT_EQ(y.shape, (Shape{2, 1}));
  EXPECT_EQ(y.data, (std::vector<float>{3, -1}));
  EXPECT_THROW(l->forward(Tensor({2, 5}), y, {}), Error);  // no position axis
}

TEST(DsCnnLayers, ConfigRoundTripsAndBadKeysAreNamed) {
  for (auto& l : {make_depthwise_conv1d(6, 3), make_global_avgpool()}) {
    auto back = make_layer(l->config());
    EXPECT_EQ(back->config(), l->config());
  }
  try {
    make_layer({{"kind", "depthwise_conv1d"}, {"channels", 4}});
    FAIL() << "a missing kernel must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'kernel'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_depthwise_conv1d(0, 3), Error);
}

ModelSpec spec(const std::string& family, double width, int blocks) {
  ModelSpec m;
  m.family = family;
  m.width = width;
  m.num_conv = blocks;
  return m;
}

size_t params_of(const ModelSpec& m) {
  Rng rng(1);
  return build_model(m, 50, 13, 12, rng).count_params();
}

// 52C + N(C^2 + 5C) + 12 on 50 x 13 features and 12 classes: first conv 40C, each block 4C
// (depthwise) + C^2 + C (pointwise), dense 12C + 12.
TEST(DsCnnFamily, LayersAndParameterCounts) {
  Rng rng(1);
  const Sequential s = build_model(spec("ds_cnn", 1.0, 2), 50, 13, 12, rng);
  std::vector<std::string> kinds;
  for (const auto& c : s.config()) kinds.push_back(c.at("kind"));
  const std::vector<std::string> want = {"reshape",
                                         "conv1d",
                                         "relu",
                                         "maxpool1d",
                                         "depthwise_conv1d",
                                         "relu",
                                         "conv1d",
                                         "relu",
                                         "maxpool1d",
                                         "dropout",
                                         "depthwise_conv1d",
                                         "relu",
                                         "conv1d",
                                         "relu",
                                         "dropout",
                                         "global_avgpool",
                                         "dense"};
  EXPECT_EQ(kinds, want);
  EXPECT_EQ(s.config()[6].at("kernel"), 1);  // pointwise
  EXPECT_EQ(s.output_shape({4, 650}), (Shape{4, 12}));
  for (auto [width, blocks] : {std::pair{0.95, 2}, {1.65, 3}, {1.0, 1}}) {
    const size_t c = size_t(ds_cnn_channels(width)), n = size_t(blocks);
    EXPECT_EQ(params_of(spec("ds_cnn", width, blocks)), 52 * c + n * (c * c + 5 * c) + 12)
        << "width " << width << " blocks " << blocks;
  }
  EXPECT_EQ(ds_cnn_channels(0.95), 15);
  EXPECT_EQ(ds_cnn_channels(1.65), 26);
}

// Width 1 and two blocks stay Edge Impulse's model (3,228 parameters on kws12); other widths and
// depths scale the filters (8 * 2^i * width) and the flattened dense input.
TEST(EiConv1dFamily, WidthAndDepthScaleTheModel) {
  EXPECT_EQ(params_of(spec("ei_conv1d", 1.0, 2)), 3228u);
  // 3 blocks at width 0.5: convs 13->4->8->16 (k3), length 50 -> 25 -> 13 -> 7, dense 112 -> 12.
  EXPECT_EQ(params_of(spec("ei_conv1d", 0.5, 3)),
            size_t((13 * 3 * 4 + 4) + (4 * 3 * 8 + 8) + (8 * 3 * 16 + 16) + (7 * 16 * 12 + 12)));
  EXPECT_EQ(params_of(spec("ei_conv1d", 2.0, 1)), size_t((13 * 3 * 16 + 16) + (25 * 16 * 12 + 12)));
}

TEST(DsCnnFamily, ConfigChecksDepthPerFamily) {
  auto parse = [](const std::string& model) {
    return parse_run_config(nlohmann::json::parse(R"({"model": )" + model + "}"), "cfg.json");
  };
  EXPECT_EQ(parse(R"({"family": "ds_cnn", "num_conv": 6})").model.num_conv, 6);
  for (const char* bad :
       {R"({"family": "ds_cnn", "num_conv": 7})", R"({"family": "ei_conv1d", "num_conv": 5})",
        R"({"family": "audio_classifier", "num_conv": 4})"}) {
    try {
      parse(bad);
      ADD_FAILURE() << bad << " must be refused";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cfg.json: model.num_conv"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
