// make_layer: rebuilds one of nn's own layers from its config() JSON; wrappers of higher stages
// (dendrite layers) are rebuilt by dkws::layer_from_config in src/model. Every problem is a
// dkws::Error naming the layer kind and the key at fault, since these configs come from
// user-edited model files.
#include <fmt/format.h>

#include "dkws/error.hpp"
#include "dkws/nn/layers.hpp"
#include "nn/layer_util.hpp"

namespace dkws::nn {
namespace {

using nlohmann::json;

const json& need(const json& cfg, const std::string& kind, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end()) throw Error(fmt::format("layer '{}': missing key '{}'", kind, key));
  return *it;
}

int get_int(const json& cfg, const std::string& kind, const char* key) {
  const json& v = need(cfg, kind, key);
  if (!v.is_number_integer())
    throw Error(
        fmt::format("layer '{}': key '{}' must be an integer (got {})", kind, key, v.dump()));
  return v.get<int>();
}

float get_float(const json& cfg, const std::string& kind, const char* key) {
  const json& v = need(cfg, kind, key);
  if (!v.is_number())
    throw Error(fmt::format("layer '{}': key '{}' must be a number (got {})", kind, key, v.dump()));
  return v.get<float>();
}

bool get_bool(const json& cfg, const std::string& kind, const char* key) {
  const json& v = need(cfg, kind, key);
  if (!v.is_boolean())
    throw Error(
        fmt::format("layer '{}': key '{}' must be true or false (got {})", kind, key, v.dump()));
  return v.get<bool>();
}

// An integer list; a single integer n stands for `count` copies of n (e.g. a square kernel).
Shape get_ints(const json& cfg, const std::string& kind, const char* key, int count = -1) {
  const json& v = need(cfg, kind, key);
  if (v.is_number_integer() && count > 0) return Shape(size_t(count), v.get<int>());
  bool ok = v.is_array() && (count < 0 || int(v.size()) == count);
  if (ok)
    for (const auto& e : v) ok = ok && e.is_number_integer();
  if (!ok)
    throw Error(fmt::format("layer '{}': key '{}' must be a list of {} integers (got {})", kind,
                            key, count < 0 ? std::string("") : std::to_string(count), v.dump()));
  return v.get<Shape>();
}

// Throws unless the product of dims (a weight tensor's shape) is at most kMaxConfigWeights.
// (In double: a product of ints overflows neither it nor, below the bound, an int.)
void check_size(const std::string& kind, const char* what, std::initializer_list<int> dims) {
  double n = 1;
  for (int d : dims) n *= std::max(d, 1);
  if (n > kMaxConfigWeights)
    throw Error(fmt::format("layer '{}': {} of {} floats is over the limit of {}", kind, what, n,
                            kMaxConfigWeights));
}

}  // namespace

std::unique_ptr<Layer> make_layer(const json& cfg) {
  if (!cfg.is_object()) throw Error("layer config must be a JSON object, got " + cfg.dump());
  auto it = cfg.find("kind");
  if (it == cfg.end() || !it->is_string())
    throw Error("layer config: missing string key 'kind' in " + cfg.dump());
  const std::string kind = it->get<std::string>();
  if (kind == "dense") {
    const int in = get_int(cfg, kind, "in"), out = get_int(cfg, kind, "out");
    check_size(kind, "weight", {out, in});
    return make_dense(in, out);
  }
  if (kind == "conv1d") {
    const int in = get_int(cfg, kind, "in"), out = get_int(cfg, kind, "out");
    const int k = get_int(cfg, kind, "kernel");
    check_size(kind, "weight", {out, k, in});
    return make_conv1d(in, out, k);
  }
  if (kind == "conv2d") {
    const Shape k = get_ints(cfg, kind, "kernel", 2);
    const int in = get_int(cfg, kind, "in"), out = get_int(cfg, kind, "out");
    check_size(kind, "weight", {out, k[0], k[1], in});
    return make_conv2d(in, out, k[0], k[1]);
  }
  if (kind == "depthwise_conv1d")
    return make_depthwise_conv1d(get_int(cfg, kind, "channels"), get_int(cfg, kind, "kernel"));
  if (kind == "global_avgpool") return make_global_avgpool();
  if (kind == "maxpool1d")
    return make_maxpool1d(get_int(cfg, kind, "pool"), get_bool(cfg, kind, "same"));
  if (kind == "maxpool2d")
    return make_maxpool2d(get_int(cfg, kind, "pool"), get_bool(cfg, kind, "same"));
  if (kind == "relu") return make_relu();
  if (kind == "dropout") return make_dropout(get_float(cfg, kind, "rate"));
  if (kind == "gaussian_noise") return make_gaussian_noise(get_float(cfg, kind, "stddev"));
  if (kind == "flatten") return make_flatten();
  if (kind == "reshape") {
    const Shape shape = get_ints(cfg, kind, "shape");
    double n = 1;  // the item size, compared with the input's as a size_t (must not wrap)
    for (int d : shape) n *= std::max(d, 1);
    if (n > double(INT32_MAX))
      throw Error(fmt::format("layer 'reshape': shape {} holds more than 2^31 floats",
                              detail::shape_str(shape)));
    return make_reshape(shape);
  }
  throw Error(fmt::format("unknown layer kind '{}'", kind));
}

}  // namespace dkws::nn
