// Rebuilding layers and networks from a model file's layer list. nn rebuilds its own layers
// (nn::make_layer) and the dendrite stage its wrappers; this file only picks between them, so
// neither of those stages needs to know the other's kinds.
#include <nlohmann/json.hpp>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/error.hpp"
#include "dkws/models.hpp"

namespace dkws {

std::unique_ptr<nn::Layer> layer_from_config(const nlohmann::json& cfg) {
  if (cfg.is_object()) {
    const auto kind = cfg.find("kind");
    if (kind != cfg.end() && *kind == "dendrite") return dendrite::make_dendrite_layer(cfg);
  }
  return nn::make_layer(cfg);
}

nn::Sequential net_from_config(const nlohmann::json& layers) {
  if (!layers.is_array()) throw Error("model layers: expected a JSON array");
  nn::Sequential net;
  for (const auto& c : layers) net.add(layer_from_config(c));
  return net;
}

}  // namespace dkws
