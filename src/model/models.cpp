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
Sequential build_ei_conv1d(const ModelSpec& spec, int frames, int coeffs, int classes) {
  Sequential s;
  s.add(make_reshape({frames, coeffs}));
  int length = frames, channels = coeffs;
  for (int out : {8, 16}) {
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

Sequential build_audio_classifier(const ModelSpec& spec, int frames, int coeffs, int classes) {
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
    s.add(make_dropout(float(spec.dropout)));
    h = spec.pool_same ? (h + 1) / 2 : h / 2;
    w = spec.pool_same ? (w + 1) / 2 : w / 2;
    if (h < 1 || w < 1) throw Error("model: too many conv blocks for the feature matrix size");
    channels = out;
  }
  s.add(make_flatten());
  int flat = h * w * channels;
  if (spec.num_linear == 2) {
    const int hidden = audio_classifier_hidden(flat, classes);
    s.add(make_dense(flat, hidden));
    s.add(make_relu());
    flat = hidden;
  }
  s.add(make_dense(flat, classes));
  return s;
}

}  // namespace

int audio_classifier_channels(int growth, double width, int block) {
  return std::max(1, int(kChannelTable[growth][block] * width));
}

int audio_classifier_hidden(int flat, int classes) {
  return std::max(3, int(std::exp((std::log(double(flat)) + std::log(double(classes))) / 2)));
}

nn::Sequential build_model(const ModelSpec& spec, int frames, int coeffs, int classes, Rng& rng) {
  nn::Sequential s;
  if (spec.family == "ei_conv1d")
    s = build_ei_conv1d(spec, frames, coeffs, classes);
  else if (spec.family == "audio_classifier")
    s = build_audio_classifier(spec, frames, coeffs, classes);
  else
    throw Error("model.family: unknown family '" + spec.family + "'");
  for (size_t i = 0; i < s.size(); ++i) s.layer(i).init(rng);
  return s;
}

}  // namespace dkws
