#include "dkws/models.hpp"

#include <cmath>

#include "dkws/error.hpp"
#include "dkws/nn/layers.hpp"

namespace dkws {
namespace {

using namespace dkws::nn;

constexpr int kChannelTable[6][4] = {{8, 16, 32, 64}, {8, 16, 24, 32}, {8, 16, 16, 32},
                                     {8, 16, 16, 16}, {8, 8, 8, 8},    {8, 8, 8, 16}};

void mark_max_norm(Layer& layer, double max_norm) {
  for (Param* p : layer.params())
    if (p->name == "weight") p->max_norm = float(max_norm);
}

// Edge Impulse: Conv1D(8) -> pool -> drop -> Conv1D(16) -> pool -> drop -> flatten -> dense.
// Scaled: num_conv blocks, block i with ei_conv1d_channels(width, i) filters; width 1 and two
// blocks are Edge Impulse's model.
Sequential build_ei_conv1d(const ModelSpec& spec, int frames, int coeffs, int classes) {
  Sequential s;
  s.add(make_reshape({frames, coeffs}));
  int length = frames, channels = coeffs;
  for (int i = 0; i < spec.num_conv; ++i) {
    const int out = ei_conv1d_channels(spec.width, i);
    auto conv = make_conv1d(channels, out, 3);
    if (spec.max_norm > 0) mark_max_norm(*conv, spec.max_norm);
    s.add(std::move(conv));
    s.add(make_relu());
    s.add(make_maxpool1d(2, true));
    s.add(make_dropout(float(spec.dropout)));
    length = (length + 1) / 2;
    channels = out;
  }
  s.add(make_flatten());
  s.add(make_dense(length * channels, classes));
  return s;
}

// DS-CNN ("Hello Edge", Zhang et al. 2017) over time, the coefficients as channels:
// conv1d(k3) -> ReLU -> pool2, then num_conv blocks of [depthwise conv1d(k3) + bias -> ReLU ->
// pointwise conv1d(k1) -> ReLU -> (pool2 but after the last) -> dropout], global average pool,
// dense. Bias instead of batch norm: nothing to fold at int8 export, and at these sizes
// (1-4k parameters) the blocks are shallow enough to train without it. The pools stand in for
// Hello Edge's stride-2 first conv and widen the receptive field of the 3-tap kernels.
Sequential build_ds_cnn(const ModelSpec& spec, int frames, int coeffs, int classes) {
  const int c = ds_cnn_channels(spec.width);
  Sequential s;
  s.add(make_reshape({frames, coeffs}));
  auto first = make_conv1d(coeffs, c, 3);
  if (spec.max_norm > 0) mark_max_norm(*first, spec.max_norm);
  s.add(std::move(first));
  s.add(make_relu());
  s.add(make_maxpool1d(2, true));
  for (int i = 0; i < spec.num_conv; ++i) {
    s.add(make_depthwise_conv1d(c, 3));
    s.add(make_relu());
    auto pointwise = make_conv1d(c, c, 1);
    if (spec.max_norm > 0) mark_max_norm(*pointwise, spec.max_norm);
    s.add(std::move(pointwise));
    s.add(make_relu());
    if (i + 1 < spec.num_conv) s.add(make_maxpool1d(2, true));
    s.add(make_dropout(float(spec.dropout)));
  }
  s.add(make_global_avgpool());
  s.add(make_dense(c, classes));
  return s;
}

// The paper's AudioClassifier (dropout_at "linear"): conv blocks drop at conv_dropout, and the
// swept `dropout` comes before every dense layer. dropout_at "conv" is dkws's first variant:
// the swept rate after every conv block and none before the dense layers.
Sequential build_audio_classifier(const ModelSpec& spec, int frames, int coeffs, int classes) {
  const bool paper = spec.dropout_at == "linear";
  const float block_dropout = float(paper ? spec.conv_dropout : spec.dropout);
  Sequential s;
  if (spec.noise > 0) s.add(make_gaussian_noise(float(spec.noise)));
  s.add(make_reshape({frames, coeffs, 1}));
  int h = frames, w = coeffs, channels = 1;
  for (int i = 0; i < spec.num_conv; ++i) {
    const int out = audio_classifier_channels(spec.growth, spec.width, i);
    auto conv = make_conv2d(channels, out, 3, 3);
    if (spec.max_norm > 0) mark_max_norm(*conv, spec.max_norm);
    s.add(std::move(conv));
    s.add(make_relu());
    s.add(make_maxpool2d(2, spec.pool_same));
    s.add(make_dropout(block_dropout));
    h = spec.pool_same ? (h + 1) / 2 : h / 2;
    w = spec.pool_same ? (w + 1) / 2 : w / 2;
    if (h < 1 || w < 1) throw Error("model: too many conv blocks for the feature matrix size");
    channels = out;
  }
  s.add(make_flatten());
  int flat = h * w * channels;
  if (spec.num_linear == 2) {
    const int hidden = audio_classifier_hidden(flat, classes);
    if (paper) s.add(make_dropout(float(spec.dropout)));
    s.add(make_dense(flat, hidden));
    s.add(make_relu());
    flat = hidden;
  }
  if (paper) s.add(make_dropout(float(spec.dropout)));
  s.add(make_dense(flat, classes));
  return s;
}

// PyTorch's default Conv/Linear init (kaiming_uniform_ with a = sqrt(5)): weights and biases
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = inputs per output channel. Drawn in storage
// order, weight then bias, layer by layer.
void init_torch_default(Sequential& s, Rng& rng) {
  for (size_t i = 0; i < s.size(); ++i) {
    Layer& layer = s.layer(i);
    const std::string kind = layer.kind();
    if (kind != "conv1d" && kind != "conv2d" && kind != "dense" && kind != "depthwise_conv1d")
      continue;
    double bound = 0;
    for (Param* p : layer.params()) {
      if (p->name == "weight") {
        const size_t fan_in = p->value.size() / size_t(p->value.dim(0));
        bound = 1.0 / std::sqrt(double(fan_in));
      }
      if (bound <= 0) throw Error("model.init: a " + kind + " layer lists its bias first");
      for (float& v : p->value.data) v = float(rng.uniform(-bound, bound));
    }
  }
}

}  // namespace

int audio_classifier_channels(int growth, double width, int block) {
  return std::max(1, int(kChannelTable[growth][block] * width));
}

int ei_conv1d_channels(double width, int block) {
  return std::max(1, int(8 * (1 << block) * width));
}

int ds_cnn_channels(double width) {
  return std::max(1, int(16 * width));
}

int audio_classifier_hidden(int flat, int classes) {
  return std::max(3, int(std::exp((std::log(double(flat)) + std::log(double(classes))) / 2)));
}

nn::Sequential build_model(const ModelSpec& spec, int frames, int coeffs, int classes, Rng& rng) {
  nn::Sequential s;
  if (spec.family == "ei_conv1d")
    s = build_ei_conv1d(spec, frames, coeffs, classes);
  else if (spec.family == "ds_cnn")
    s = build_ds_cnn(spec, frames, coeffs, classes);
  else if (spec.family == "audio_classifier")
    s = build_audio_classifier(spec, frames, coeffs, classes);
  else
    throw Error("model.family: unknown family '" + spec.family + "'");
  if (spec.init == "torch")
    init_torch_default(s, rng);
  else
    for (size_t i = 0; i < s.size(); ++i) s.layer(i).init(rng);
  return s;
}

}  // namespace dkws
