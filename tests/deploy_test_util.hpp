// Shared by the deploy tests: the committed models quantized on kws12, real test clips as int16,
// and running a shell command.
#pragma once
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/audio.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/deploy.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/layers.hpp"
#include "test_util.hpp"

namespace dkws::testing {

struct DeployCase {
  deploy::QModel q;
  std::vector<std::vector<int16_t>> clips;  // the kws12 test split, 16 kHz, 1 s
  std::vector<int> labels;
};

// Quantizes tests/fixtures/deploy/<name> (calibrated on the kws12 training split) and loads up to
// max_clips test clips (0: all).
inline DeployCase deploy_case(const std::string& name, size_t max_clips) {
  DeployCase c;
  TempDir t;
  std::filesystem::copy_file(source_dir() / "tests" / "fixtures" / "deploy" / name,
                             t / "model.json");
  deploy::QuantizeRunOptions opt;
  opt.data_dir = data_dir();
  opt.cache_dir = test_cache_dir("deploy");
  opt.quiet = true;
  c.q = deploy::quantize_run(t.path(), opt).q;
  TaskSpec spec;
  spec.name = "kws12";
  spec.data_dir = data_dir();
  spec.front_end = c.q.front_end;
  spec.cache_dir = opt.cache_dir;
  spec.quiet = true;
  const TaskData data = load_task(spec);
  const size_t n = max_clips ? std::min(max_clips, data.test.size()) : data.test.size();
  for (size_t i = 0; i < n; ++i) {
    const auto audio = load_audio(data_dir() / data.test.paths[i], {16000, 1.0});
    c.clips.emplace_back(audio.begin(), audio.end());
    c.labels.push_back(data.test.y[i]);
  }
  return c;
}

// A 650-feature model with two dendrites on a conv2d and on the dense output, with non-zero
// cascade (u) and output (v) weights, so every part of the fold is exercised.
inline SavedModel dendritic_model(Rng& rng) {
  SavedModel m;
  m.config.dendrites.activation = "tanh";
  for (int c = 0; c < 4; ++c)  // appended: see q() in test_data_import_cli.cpp
    m.classes.push_back(std::string("c").append(std::to_string(c)));
  m.net.add(nn::make_reshape({50, 13, 1}));
  auto conv = std::make_unique<dendrite::DendriteLayer>(nn::make_conv2d(1, 3, 3, 3),
                                                        dendrite::Activation::kTanh, true);
  auto dense = std::make_unique<dendrite::DendriteLayer>(nn::make_dense(25 * 6 * 3, 4),
                                                         dendrite::Activation::kTanh, true);
  for (auto* d : {conv.get(), dense.get()}) {
    d->init(rng);
    for (int k = 0; k < 2; ++k) {
      auto g = d->base().clone_shape(rng);
      d->add_dendrite(std::move(g));
    }
  }
  m.net.add(std::move(conv));
  m.net.add(nn::make_relu());
  m.net.add(nn::make_maxpool2d(2, false));
  m.net.add(nn::make_flatten());
  m.net.add(std::move(dense));
  std::normal_distribution<float> n01(0, 1);
  std::mt19937 gen(3);
  for (size_t i : {size_t(1), size_t(5)}) {
    auto& d = static_cast<dendrite::DendriteLayer&>(m.net.layer(i));
    for (int k = 0; k < 2; ++k) {
      for (size_t c = 0; c < d.output_weight(k).value.size(); ++c)
        d.output_weight(k).value[c] = 0.8f * n01(gen);
      for (int j = 0; j < k; ++j)
        for (size_t c = 0; c < d.cascade_weight(k, j).value.size(); ++c)
          d.cascade_weight(k, j).value[c] = n01(gen);
    }
  }
  return m;
}

// A ds_cnn (width 0.5: 8 channels, 2 blocks) on 650 features and 4 classes with two tanh
// dendrites on every conv1d (first and pointwise) and on the dense layer, all weights perturbed
// so the biases, v and u terms are non-zero.
inline SavedModel ds_cnn_model(Rng& rng) {
  SavedModel m;
  m.config.model.family = "ds_cnn";
  m.config.model.width = 0.5;
  m.config.model.num_conv = 2;
  m.config.dendrites.mode = "gd";
  m.config.dendrites.activation = "tanh";
  m.classes = {"c0", "c1", "c2", "c3"};
  m.net = build_model(m.config.model, 50, 13, 4, rng);
  dendrite::wrap_layers(m.net, m.config.dendrites);
  for (int d = 0; d < 2; ++d) dendrite::add_gd_dendrites(m.net, m.config.dendrites, rng);
  for (nn::Param* p : m.net.params())
    for (float& v : p->value.data) v += float(0.1 * rng.normal());
  return m;
}

// The int8 model against its float network on `eval`: mean |dequantized int8 logit - float logit|
// relative to mean |float logit|, and the fraction of items whose top class agrees.
struct Int8VsFloat {
  double relative_error = 0, agreement = 0;
};
inline Int8VsFloat compare_int8_to_float(const deploy::QModel& q, SavedModel& m,
                                         const FeatureSet& eval) {
  const size_t dim = size_t(eval.dim()), classes = q.classes.size();
  nn::Tensor x({int(eval.size()), int(dim)});
  std::copy(eval.x.begin(), eval.x.end(), x.ptr());
  const nn::Tensor& y = m.net.forward(x, {});
  double err = 0, spread = 0;
  size_t agree = 0;
  std::vector<int8_t> in(dim);
  for (size_t i = 0; i < eval.size(); ++i) {
    deploy::quantize_input(q, eval.row(i), in.data());
    const auto s = deploy::run_int8(q, in.data());
    size_t best = 0;
    for (size_t c = 0; c < classes; ++c) {
      err += std::fabs(q.out_scale * (s[c] - q.out_zp) - y[i * classes + c]);
      spread += std::fabs(y[i * classes + c]);
      if (y[i * classes + c] > y[i * classes + best]) best = c;
    }
    agree += size_t(deploy::argmax_scores(s)) == best;
  }
  return {err / spread, double(agree) / double(eval.size())};
}

// n rows of 50 x 13 N(0, 1) features (the scale of CMVN'd MFCCs).
inline FeatureSet random_features(int n, unsigned seed) {
  FeatureSet s;
  s.frames = 50;
  s.coeffs = 13;
  std::mt19937 gen(seed);
  std::normal_distribution<float> n01(0, 1);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 650; ++j) s.x.push_back(n01(gen));
    s.y.push_back(0);
  }
  return s;
}

}  // namespace dkws::testing
