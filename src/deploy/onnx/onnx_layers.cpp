#include "deploy/onnx/onnx_layers.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dkws/error.hpp"

namespace dkws::deploy::onnx_detail {
namespace {

using nlohmann::json;

const nn::Tensor& param(const nn::Layer& layer, const std::string& name, const std::string& where) {
  for (const nn::Param* p : layer.params())
    if (p->name == name) return p->value;
  throw Error(fmt::format("onnx export: {}: parameter '{}' is missing", where, name));
}

std::vector<int64_t> dims_of(const nn::Tensor& t) {
  return {t.shape.begin(), t.shape.end()};
}

// dkws weights to ONNX's layout: Conv1D [out][k][in] -> [out][in][k], Conv2D [out][kh][kw][in] ->
// [out][in][kh][kw]; Dense [out][in] is Gemm's B with transB = 1 as it is.
std::pair<std::vector<int64_t>, std::vector<float>> onnx_weight(const std::string& kind,
                                                                const nn::Tensor& w) {
  if (kind == "dense") return {dims_of(w), w.data};
  const int out = w.dim(0), in = w.shape.back();
  const int taps = int(w.size()) / (out * in);  // k, or kh * kw
  std::vector<float> v(w.size());
  for (int o = 0; o < out; ++o)
    for (int t = 0; t < taps; ++t)
      for (int c = 0; c < in; ++c)
        v[(size_t(o) * in + c) * taps + t] = w[(size_t(o) * taps + t) * in + c];
  std::vector<int64_t> dims = {out, in};
  dims.insert(dims.end(), w.shape.begin() + 1, w.shape.end() - 1);
  return {dims, v};
}

// f or one g_k: Conv (dkws 'same': (k-1)/2 zeros before, the rest after) or Gemm.
std::string weighted_op(GraphBuilder& g, const json& cfg, const nn::Tensor& w, const nn::Tensor& b,
                        const std::string& x, const std::string& prefix) {
  const std::string kind = cfg.at("kind");
  auto [dims, data] = onnx_weight(kind, w);
  const std::string wn = g.add_float(prefix + "_weight", dims, data);
  const std::string bn = g.add_float(prefix + "_bias", dims_of(b), b.data);
  if (kind == "dense") {
    const std::string out = g.add_node("Gemm", {x, wn, bn}, prefix);
    GraphBuilder::set_int(g.last(), "transB", 1);
    return out;
  }
  const std::vector<int64_t> kernel(dims.begin() + 2, dims.end());
  std::vector<int64_t> pads;
  for (int64_t k : kernel) pads.push_back((k - 1) / 2);
  for (int64_t k : kernel) pads.push_back(k - 1 - (k - 1) / 2);
  const std::string out = g.add_node("Conv", {x, wn, bn}, prefix);
  GraphBuilder::set_ints(g.last(), "kernel_shape", kernel);
  GraphBuilder::set_ints(g.last(), "pads", pads);
  return out;
}

// Keras 'same' pooling pads ceil(len/p)*p - len cells, the smaller half before (as
// nn::detail::pool_axis); ONNX MaxPool ignores padded cells, as dkws does. 'valid' pads nothing
// and floors, which is MaxPool's default.
Value max_pool(GraphBuilder& g, const nn::Layer& layer, const Value& in, const std::string& name) {
  const json cfg = layer.config();
  const int p = cfg.at("pool");
  const bool same = cfg.at("same");
  const Value x = g.channels_first(in, name);
  std::vector<int64_t> before, after;
  for (size_t i = 1; i + 1 < in.shape.size(); ++i) {
    const int len = in.shape[i];
    const int total = same ? std::max((len + p - 1) / p * p - len, 0) : 0;
    before.push_back(total / 2);
    after.push_back(total - total / 2);
  }
  const std::vector<int64_t> kernel(before.size(), p);
  std::vector<int64_t> pads = before;
  pads.insert(pads.end(), after.begin(), after.end());
  const nn::Shape out_shape = layer.output_shape(in.shape);
  Value out{g.add_node("MaxPool", {x.name}, name), out_shape, true, to_channels_first(out_shape)};
  GraphBuilder::set_ints(g.last(), "kernel_shape", kernel);
  GraphBuilder::set_ints(g.last(), "strides", kernel);
  GraphBuilder::set_ints(g.last(), "pads", pads);
  return out;
}

// Depthwise conv1d: a grouped Conv (group = C), weight [C][k] as ONNX's [C][1][k], 'same' as
// dkws pads it ((k-1)/2 zeros before, the rest after).
Value depthwise_conv(GraphBuilder& g, const nn::Layer& layer, const Value& in,
                     const std::string& name) {
  const json cfg = layer.config();
  const int64_t channels = cfg.at("channels").get<int>(), k = cfg.at("kernel").get<int>();
  const Value x = g.channels_first(in, name);
  const nn::Tensor& w = param(layer, "weight", name);
  const std::string wn = g.add_float(name + "_weight", {channels, 1, k}, w.data);
  const std::string bn = g.add_float(name + "_bias", dims_of(param(layer, "bias", name)),
                                     param(layer, "bias", name).data);
  const nn::Shape out_shape = layer.output_shape(in.shape);
  Value out{g.add_node("Conv", {x.name, wn, bn}, name), out_shape, true,
            to_channels_first(out_shape)};
  GraphBuilder::set_ints(g.last(), "kernel_shape", {k});
  GraphBuilder::set_ints(g.last(), "pads", {(k - 1) / 2, k - 1 - (k - 1) / 2});
  GraphBuilder::set_int(g.last(), "group", channels);
  return out;
}

// Global average pool: ReduceMean over the position axes of whichever layout the value is in;
// [N, C] is the same in both.
Value global_avgpool(GraphBuilder& g, const nn::Layer& layer, const Value& in,
                     const std::string& name) {
  std::vector<int64_t> axes;
  const int64_t rank = int64_t(in.onnx_shape.size());
  for (int64_t a = in.channels_first ? 2 : 1; a < (in.channels_first ? rank : rank - 1); ++a)
    axes.push_back(a);
  const nn::Shape out_shape = layer.output_shape(in.shape);
  Value out{g.add_node("ReduceMean", {in.name}, name), out_shape, false, out_shape};
  GraphBuilder::set_ints(g.last(), "axes", axes);
  GraphBuilder::set_int(g.last(), "keepdims", 0);
  return out;
}

const char* activation_op(const std::string& act, const std::string& where) {
  if (act == "tanh") return "Tanh";
  if (act == "sigmoid") return "Sigmoid";
  if (act == "relu") return "Relu";
  throw Error(fmt::format("onnx export: {}: unknown dendrite activation '{}'", where, act));
}

// A Conv1D/Conv2D/Dense, or the same wrapped in dendrites:
//   a_k = g_k(x) + sum_{j<k} u_kj (.) h_j,  h_k = sigma(a_k),  y = f(x) + sum_k v_k (.) h_k
// with the per-channel vectors shaped [C], [C, 1] or [C, 1, 1] so they broadcast over
// channels-first positions. Terms are added in the order DendriteLayer::forward adds them.
// Reference: DendriteLayer::forward_reference (src/dendrite/dendrite_reference.cpp).
Value weighted_layer(GraphBuilder& g, const nn::Layer& layer, const Value& in,
                     const std::string& name) {
  const json cfg = layer.config();
  const bool wrapped = cfg.at("kind") == "dendrite";
  const json base = wrapped ? cfg.at("base") : cfg;
  const bool dense = base.at("kind") == "dense";
  const Value x = dense ? g.channels_last(in, name) : g.channels_first(in, name);
  const nn::Shape out_shape = layer.output_shape(in.shape);
  const auto tag = [&](const std::string& s) { return name + "_" + s; };

  std::string y = weighted_op(g, base, param(layer, "weight", name), param(layer, "bias", name),
                              x.name, wrapped ? tag("f") : name);
  const int dendrites = wrapped ? cfg.at("dendrites").get<int>() : 0;
  if (dendrites > 0) {
    const int channels = base.at("out");
    std::vector<int64_t> vec_dims = {channels};
    vec_dims.resize(dense ? 1 : out_shape.size() - 1, 1);
    const auto channel_vector = [&](const std::string& pname) {
      return g.add_float(tag(pname), vec_dims, param(layer, pname, name).data);
    };
    const char* act = activation_op(cfg.at("activation"), name);
    std::vector<std::string> h;
    for (int k = 0; k < dendrites; ++k) {
      const std::string gk = fmt::format("g{}", k);
      std::string a = weighted_op(g, base, param(layer, gk + ".weight", name),
                                  param(layer, gk + ".bias", name), x.name, tag(gk));
      for (int j = 0; j < k; ++j) {
        const std::string uname = fmt::format("u{}_{}", k, j);
        const std::string uh =
            g.add_node("Mul", {channel_vector(uname), h[size_t(j)]}, tag(uname + "_h"));
        a = g.add_node("Add", {a, uh}, tag(fmt::format("a{}", k)));
      }
      h.push_back(g.add_node(act, {a}, tag(fmt::format("h{}", k))));
      const std::string vk = fmt::format("v{}", k);
      const std::string vh = g.add_node("Mul", {channel_vector(vk), h.back()}, tag(vk + "_h"));
      y = g.add_node("Add", {y, vh}, tag("y"));
    }
  }
  return {y, out_shape, !dense, dense ? out_shape : to_channels_first(out_shape)};
}

}  // namespace

const char* supported_layer_kinds() {
  return "conv1d, conv2d, dense, dendrite (on those three), depthwise_conv1d, maxpool1d, "
         "maxpool2d, global_avgpool, relu, dropout, gaussian_noise, flatten, reshape";
}

Value emit_layer(GraphBuilder& g, const nn::Layer& layer, const Value& in, size_t index) {
  const std::string kind = layer.kind();
  const std::string name = fmt::format("l{}_{}", index, kind);
  if (kind == "dropout" || kind == "gaussian_noise") return in;  // identity at inference
  if (kind == "relu") {
    Value out = in;
    out.name = g.add_node("Relu", {in.name}, name);  // elementwise: either layout
    return out;
  }
  if (kind == "flatten" || kind == "reshape")
    return g.reshape(in, layer.output_shape(in.shape), name);
  if (kind == "maxpool1d" || kind == "maxpool2d") return max_pool(g, layer, in, name);
  if (kind == "depthwise_conv1d") return depthwise_conv(g, layer, in, name);
  if (kind == "global_avgpool") return global_avgpool(g, layer, in, name);
  std::string base_kind = kind;
  if (kind == "dendrite") base_kind = layer.config().at("base").at("kind");
  if (base_kind == "conv1d" || base_kind == "conv2d" || base_kind == "dense")
    return weighted_layer(g, layer, in, name);
  throw Error(fmt::format(
      "onnx export: layer {} has kind '{}', which ONNX export does not support "
      "(supported: {})",
      index, kind == "dendrite" ? "dendrite(" + base_kind + ")" : kind, supported_layer_kinds()));
}

}  // namespace dkws::deploy::onnx_detail
