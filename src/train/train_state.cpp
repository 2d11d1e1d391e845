#include "train/train_state.hpp"

#include <cmath>

#include "dkws/model_file.hpp"
#include "dkws/models.hpp"

namespace dkws {

nlohmann::json to_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},
          {"phase", r.phase},
          {"train_loss", r.train_loss},
          {"train_acc", r.train_acc},
          {"val_acc", r.val_acc},
          {"val_loss", r.val_loss},
          {"val_score", r.val_score},
          {"lr", r.lr},
          {"dendrites", r.dendrites},
          {"params", r.params},
          {"seconds", r.seconds},
          {"dendrite_scores", r.dendrite_scores},
          {"event", r.event},
          // JSON has no NaN: an epoch without the figure stores null.
          {"train_eval_acc", std::isfinite(r.train_eval_acc) ? nlohmann::json(r.train_eval_acc)
                                                             : nlohmann::json(nullptr)}};
}

EpochRecord epoch_record_from_json(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch");
  r.phase = j.at("phase");
  r.train_loss = j.at("train_loss");
  r.train_acc = j.at("train_acc");
  r.val_acc = j.at("val_acc");
  r.val_loss = j.at("val_loss");
  r.val_score = j.at("val_score");
  r.lr = j.at("lr");
  r.dendrites = j.at("dendrites");
  r.params = j.at("params");
  r.seconds = j.at("seconds");
  r.dendrite_scores = j.at("dendrite_scores").get<std::vector<double>>();
  r.event = j.at("event");
  // Absent from states saved before the eval-mode figure existed.
  if (j.contains("train_eval_acc") && j["train_eval_acc"].is_number())
    r.train_eval_acc = j["train_eval_acc"];
  return r;
}

nlohmann::json net_to_json(nn::Sequential& net) {
  return {{"layers", net.config()}, {"params", params_to_json(net)}};
}

nn::Sequential net_from_json(const nlohmann::json& j, const std::string& source) {
  nn::Sequential net = net_from_config(j.at("layers"));
  params_from_json(net, j.at("params"), source);
  return net;
}

}  // namespace dkws
