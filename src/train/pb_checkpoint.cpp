#include "train/pb_checkpoint.hpp"

#include "dendrite/dendrite_layer.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"
#include "train/train_state.hpp"

namespace dkws {

nlohmann::json to_json(PbCheckpoint& c) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& r : c.history) history.push_back(to_json(r));
  return {{"net", c.net ? net_to_json(*c.net) : nlohmann::json()},
          {"epoch", c.epoch},
          {"error_means", c.error_means},
          {"adam", c.adam},
          {"scheduler", c.scheduler},
          {"history", history}};
}

PbCheckpoint pb_checkpoint_from_json(const nlohmann::json& j, const std::string& source) {
  PbCheckpoint c;
  if (!j.at("net").is_null()) c.net = net_from_json(j.at("net"), source);
  c.epoch = j.at("epoch");
  c.error_means = j.at("error_means").get<std::vector<std::vector<double>>>();
  c.adam = j.at("adam");
  c.scheduler = j.at("scheduler");
  for (const auto& h : j.at("history")) c.history.push_back(epoch_record_from_json(h));
  return c;
}

std::vector<std::vector<double>> error_means(nn::Sequential& net) {
  std::vector<std::vector<double>> out;
  for (auto* layer : dendrite::wrapped_layers(net)) out.push_back(layer->error_mean());
  return out;
}

void set_error_means(nn::Sequential& net, const std::vector<std::vector<double>>& means,
                     bool track) {
  auto layers = dendrite::wrapped_layers(net);
  if (!means.empty() && means.size() != layers.size())
    throw Error("pb checkpoint: error means do not match the wrapped layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i]->track_error_mean(track);
    if (!means.empty() && !means[i].empty()) layers[i]->set_error_mean(means[i]);
  }
}

}  // namespace dkws
