// Post-training int8 quantization: walk the float network, fold each dendrite layer into one wider
// layer plus a per-channel combine, calibrate activation ranges on training data, and quantize
// weights per output channel. The result is the QModel both the C++ int8 engine and the C code
// generator consume. Ranges are plain min/max over the calibration set (every training clip), in
// eval mode (dropout and input noise off).
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "dendrite/activation.hpp"
#include "dendrite/dendrite_layer.hpp"
#include "dkws/deploy.hpp"
#include "dkws/error.hpp"
#include "nn/pool_geometry.hpp"

namespace dkws::deploy {
namespace {

using dendrite::DendriteLayer;

struct Range {
  float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
  void add(const float* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      lo = std::min(lo, p[i]);
      hi = std::max(hi, p[i]);
    }
  }
};

struct QParams {
  float scale = 1;
  int zp = 0;
};

// Asymmetric int8 over [lo, hi] widened to hold 0, so zero padding and ReLU's floor are exact.
QParams qparams_for(Range r) {
  const double lo = std::min(0.f, r.lo), hi = std::max(0.f, r.hi);
  QParams q;
  q.scale = float(std::max(hi - lo, 1e-6) / 255.0);
  q.zp = std::clamp(int(std::lround(-128.0 - lo / q.scale)), -128, 127);
  return q;
}

// One int8 operation and the float layers it stands for.
struct Stage {
  QLayer q;
  nn::Layer* base = nullptr;      // conv: f (the wrapped layer's base for dendrite layers)
  DendriteLayer* dend = nullptr;  // conv with dendrites
  size_t layer_index = 0;         // the weighted (or pool) layer
  size_t out_act = 0;             // net.activation(out_act) is the stage's output (after ReLU)
  Range out_range;
  std::vector<Range> a_range, h_range;
  QParams in_q, out_q;
  std::vector<QParams> a_q, h_q;
};

struct Shape3 {
  int h = 1, w = 1, c = 1;
  int size() const { return h * w * c; }
};

std::string layer_name(size_t i, const nlohmann::json& cfg) {
  std::string kind = cfg.at("kind").get<std::string>();
  if (kind == "dendrite")
    return fmt::format("layer {} ({}, {} dendrites)", i,
                       cfg.at("base").at("kind").get<std::string>(),
                       cfg.at("dendrites").get<int>());
  return fmt::format("layer {} ({})", i, kind);
}

[[noreturn]] void unsupported(const std::string& name, const std::string& why) {
  throw Error(fmt::format("export: {} is not supported for int8 export: {}", name, why));
}

// Builds the stage list and checks every layer against what the int8 path supports.
std::vector<Stage> plan_stages(nn::Sequential& net, int input_features) {
  std::vector<Stage> stages;
  Shape3 cur{1, 1, input_features};
  bool last_is_conv_without_relu = false;
  for (size_t i = 0; i < net.size(); ++i) {
    nn::Layer& layer = net.layer(i);
    const nlohmann::json cfg = layer.config();
    const std::string kind = cfg.at("kind").get<std::string>();
    const std::string name = layer_name(i, cfg);
    if (kind == "dropout" || kind == "gaussian_noise") continue;  // identity at inference
    if (kind == "reshape") {
      const auto dims = cfg.at("shape").get<std::vector<int>>();
      Shape3 next = dims.size() == 2   ? Shape3{dims[0], 1, dims[1]}
                    : dims.size() == 3 ? Shape3{dims[0], dims[1], dims[2]}
                                       : Shape3{1, 1, dims.empty() ? 0 : dims[0]};
      if (dims.empty() || dims.size() > 3 || next.size() != cur.size())
        unsupported(name, "reshape must give [L, C] or [H, W, C] of the same size");
      cur = next;
      last_is_conv_without_relu = false;
      continue;
    }
    if (kind == "flatten") {
      cur = {1, 1, cur.size()};
      last_is_conv_without_relu = false;
      continue;
    }
    if (kind == "relu") {
      if (!last_is_conv_without_relu)
        unsupported(name,
                    "ReLU must directly follow a conv1d, conv2d, depthwise_conv1d or dense layer");
      stages.back().q.relu = true;
      stages.back().out_act = i;
      last_is_conv_without_relu = false;
      continue;
    }
    Stage s;
    s.layer_index = i;
    s.out_act = i;
    s.q.name = name;
    s.q.h = cur.h;
    s.q.w = cur.w;
    s.q.cin = cur.c;
    if (kind == "maxpool1d" || kind == "maxpool2d") {
      const int p = cfg.at("pool").get<int>();
      const bool same = cfg.at("same").get<bool>();
      if (kind == "maxpool1d" && cur.w != 1) unsupported(name, "maxpool1d needs an [L, C] input");
      const auto ah = nn::detail::pool_axis(cur.h, p, same);
      const auto aw =
          kind == "maxpool2d" ? nn::detail::pool_axis(cur.w, p, same) : nn::detail::PoolAxis{1, 0};
      s.q.kind = QLayer::kPool;
      s.q.kh = p;
      s.q.kw = kind == "maxpool2d" ? p : 1;
      s.q.pad_h = ah.pad_before;
      s.q.pad_w = aw.pad_before;
      s.q.oh = ah.out;
      s.q.ow = aw.out;
      s.q.cout = cur.c;
      if (s.q.oh < 1 || s.q.ow < 1) unsupported(name, "pool window larger than its input");
      cur = {s.q.oh, s.q.ow, cur.c};
      stages.push_back(std::move(s));
      last_is_conv_without_relu = false;
      continue;
    }
    if (kind == "global_avgpool") {  // the mean keeps its input's scale
      s.q.kind = QLayer::kAvgPool;
      s.q.cout = cur.c;
      cur = {1, 1, cur.c};
      stages.push_back(std::move(s));
      last_is_conv_without_relu = false;
      continue;
    }
    if (kind == "depthwise_conv1d") {  // one k x 1 kernel per channel, no dendrites
      if (cur.w != 1) unsupported(name, "depthwise_conv1d needs an [L, C] input");
      if (cfg.at("channels").get<int>() != cur.c)
        unsupported(name, fmt::format("expects {} channels, gets {}", cfg.at("channels").get<int>(),
                                      cur.c));
      s.base = &layer;
      s.q.kind = QLayer::kDepthwise;
      s.q.kh = cfg.at("kernel").get<int>();
      s.q.pad_h = (s.q.kh - 1) / 2;
      s.q.oh = cur.h;
      s.q.cout = cur.c;
      stages.push_back(std::move(s));
      last_is_conv_without_relu = true;
      continue;
    }
    nlohmann::json base_cfg = cfg;
    if (kind == "dendrite") {
      s.dend = static_cast<DendriteLayer*>(&layer);
      s.base = &s.dend->base();
      s.q.dendrites = s.dend->dendrites();
      base_cfg = cfg.at("base");
    } else {
      s.base = &layer;
    }
    const std::string bkind = base_cfg.at("kind").get<std::string>();
    const int in = base_cfg.at("in").get<int>(), out = base_cfg.at("out").get<int>();
    if (bkind == "conv1d") {
      if (cur.w != 1) unsupported(name, "conv1d needs an [L, C] input");
      s.q.kh = base_cfg.at("kernel").get<int>();
    } else if (bkind == "conv2d") {
      const auto k = base_cfg.at("kernel");
      s.q.kh = k.is_array() ? k.at(0).get<int>() : k.get<int>();
      s.q.kw = k.is_array() ? k.at(1).get<int>() : k.get<int>();
    } else if (bkind == "dense") {
      if (cur.h != 1 || cur.w != 1) unsupported(name, "dense needs a flattened input");
    } else {
      unsupported(name, "unknown layer kind '" + bkind + "'");
    }
    if (in != cur.c)
      unsupported(name, fmt::format("expects {} input channels, gets {}", in, cur.c));
    s.q.pad_h = (s.q.kh - 1) / 2;
    s.q.pad_w = (s.q.kw - 1) / 2;
    s.q.oh = cur.h;
    s.q.ow = cur.w;
    s.q.cout = out;
    cur = {cur.h, cur.w, out};
    s.a_range.resize(size_t(s.q.dendrites));
    s.h_range.resize(size_t(s.q.dendrites));
    stages.push_back(std::move(s));
    last_is_conv_without_relu = true;
  }
  if (stages.empty() || stages.back().q.kind != QLayer::kConv)
    unsupported("the last layer",
                "the network must end in a dense or conv layer (the class scores)");
  return stages;
}

// Runs the float network over the calibration set and records every range the int8 path needs:
// the input, each stage's output (after its ReLU) and each dendrite's a_k and h_k.
Range calibrate(nn::Sequential& net, std::vector<Stage>& stages, const FeatureSet& set) {
  Range input;
  const size_t batch = 256, dim = size_t(set.dim());
  nn::ForwardContext ctx;  // eval mode
  nn::Tensor x, g_out;
  const bool fused = net.fused_blocks();
  net.set_fused_blocks(false);  // the ranges are read from every layer's activation
  for (size_t start = 0; start < set.size(); start += batch) {
    const size_t n = std::min(batch, set.size() - start);
    x.resize({int(n), int(dim)});
    std::copy(set.row(start), set.row(start) + n * dim, x.ptr());
    input.add(x.ptr(), x.size());
    net.forward(x, ctx);
    for (Stage& s : stages) {
      if (!s.q.weighted()) continue;
      const nn::Tensor& y = net.activation(s.out_act);
      s.out_range.add(y.ptr(), y.size());
      if (!s.dend) continue;
      const nn::Tensor& in = s.layer_index == 0 ? x : net.activation(s.layer_index - 1);
      const int c = s.q.cout;
      for (int k = 0; k < s.q.dendrites; ++k) {
        // a_k = g_k(x) + sum_j u_kj h_j, rebuilt from the layer's parts (h_j from this forward).
        // Reference: DendriteLayer::forward_reference (src/dendrite/dendrite_reference.cpp).
        s.dend->dendrite_layer(k).forward(in, g_out, ctx);
        for (int j = 0; j < k; ++j) {
          const float* u = s.dend->cascade_weight(k, j).value.ptr();
          const nn::Tensor& h = s.dend->dendrite_output(j);
          for (size_t p = 0; p < g_out.size(); ++p) g_out[p] += u[p % size_t(c)] * h[p];
        }
        s.a_range[size_t(k)].add(g_out.ptr(), g_out.size());
        const nn::Tensor& h = s.dend->dendrite_output(k);
        s.h_range[size_t(k)].add(h.ptr(), h.size());
      }
    }
  }
  net.set_fused_blocks(fused);
  return input;
}

// Appends one branch's weights (rows of `w`, per-channel symmetric) and int32 bias; returns the
// per-channel weight scales.
std::vector<double> quantize_branch(nn::Layer& layer, double in_scale, QLayer& q) {
  const auto params = layer.params();
  const nn::Tensor& w = params.at(0)->value;
  const nn::Tensor& b = params.at(1)->value;
  const size_t rows = size_t(q.cout), row = w.size() / rows;
  std::vector<double> scales(rows);
  for (size_t c = 0; c < rows; ++c) {
    float mx = 0;
    for (size_t i = 0; i < row; ++i) mx = std::max(mx, std::fabs(w[c * row + i]));
    scales[c] = mx > 0 ? mx / 127.0 : 1.0;
    for (size_t i = 0; i < row; ++i)
      q.weight.push_back(int8_t(std::clamp(std::lround(w[c * row + i] / scales[c]), -127L, 127L)));
    const double bq = std::round(b[c] / (in_scale * scales[c]));
    if (std::fabs(bq) > 2e9) throw Error("quantize: " + q.name + ": bias does not fit in int32");
    q.bias.push_back(int32_t(bq));
  }
  return scales;
}

// Reference: DendriteLayer::forward_reference (src/dendrite/dendrite_reference.cpp).
void quantize_conv(Stage& s, dendrite::Activation act) {
  QLayer& q = s.q;
  const double s_in = s.in_q.scale, s_y = s.out_q.scale;
  q.in_zp = s.in_q.zp;
  q.out_zp = s.out_q.zp;
  const size_t C = size_t(q.cout);
  for (double sw : quantize_branch(*s.base, s_in, q))
    q.acc_mul.push_back(quantize_multiplier(s_in * sw / s_y));
  for (int k = 0; k < q.dendrites; ++k) {
    const QParams aq = s.a_q[size_t(k)], hq = s.h_q[size_t(k)];
    q.a_zp.push_back(int8_t(aq.zp));
    q.h_zp.push_back(int8_t(hq.zp));
    for (double sw : quantize_branch(s.dend->dendrite_layer(k), s_in, q))
      q.acc_mul.push_back(quantize_multiplier(s_in * sw / aq.scale));
    for (int j = 0; j < k; ++j) {
      const float* u = s.dend->cascade_weight(k, j).value.ptr();
      for (size_t c = 0; c < C; ++c)
        q.cascade_mul.push_back(
            quantize_multiplier(double(u[c]) * s.h_q[size_t(j)].scale / aq.scale));
    }
    const float* v = s.dend->output_weight(k).value.ptr();
    for (size_t c = 0; c < C; ++c)
      q.out_mul.push_back(quantize_multiplier(double(v[c]) * hq.scale / s_y));
    // sigma as a table over every int8 a: the float activation the model trained with.
    std::array<int8_t, 256> lut{};
    for (int a = -128; a < 128; ++a) {
      const float h = dendrite::activate(act, float(a - aq.zp) * aq.scale);
      lut[size_t(a + 128)] = int8_t(std::clamp(std::lround(h / hq.scale) + hq.zp, -128L, 127L));
    }
    q.lut.push_back(lut);
  }
}

}  // namespace

size_t QModel::weight_bytes() const {
  size_t n = 0;
  for (const QLayer& l : layers)
    n += l.weight.size() + 4 * l.bias.size() +
         8 * (l.acc_mul.size() + l.cascade_mul.size() + l.out_mul.size()) + 2 * l.a_zp.size() +
         256 * l.lut.size();
  return n;
}

QModel quantize(SavedModel& model, const FeatureSet& calibration) {
  const FrontEndConfig& fe = model.config.front_end;
  const int features = fe.frames() * fe.coeffs();
  nn::Shape out;
  try {
    out = model.net.output_shape({1, features});
  } catch (const Error&) {
    out.clear();  // reported below, with the front end that produced the size
  }
  if (out.size() != 2 || out[1] != int(model.classes.size()))
    throw Error(fmt::format(
        "export: the model does not take the {} features its front end gives ({} Hz, {} s, {})",
        features, fe.sample_rate, fe.window_seconds, fe.block));
  if (calibration.size() == 0 || calibration.dim() != features)
    throw Error(fmt::format("quantize: calibration data has {} features per clip, the model {}",
                            calibration.dim(), features));
  std::vector<Stage> stages = plan_stages(model.net, features);
  const Range input = calibrate(model.net, stages, calibration);

  QModel q;
  q.front_end = fe;
  q.classes = model.classes;
  const QParams in_q = qparams_for(input);
  q.in_scale = in_q.scale;
  q.in_zp = in_q.zp;
  const dendrite::Activation act = dendrite::parse_activation(model.config.dendrites.activation);
  QParams cur = in_q;
  for (Stage& s : stages) {
    s.in_q = cur;
    if (!s.q.weighted()) {  // max and average pooling keep their input's scale
      s.q.in_zp = s.q.out_zp = cur.zp;
    } else {
      s.out_q = qparams_for(s.out_range);
      for (int k = 0; k < s.q.dendrites; ++k) {
        s.a_q.push_back(qparams_for(s.a_range[size_t(k)]));
        s.h_q.push_back(qparams_for(s.h_range[size_t(k)]));
      }
      if (s.dend && s.dend->activation() != act)
        throw Error("quantize: " + s.q.name + ": activation differs from the config's");
      quantize_conv(s, act);
      cur = s.out_q;
    }
    q.layers.push_back(std::move(s.q));
  }
  q.out_scale = cur.scale;
  q.out_zp = cur.zp;
  return q;
}

}  // namespace dkws::deploy
