#include "dkws/model_file.hpp"

#include <cstring>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/util.hpp"

namespace dkws {

using nlohmann::json;

SavedModel new_model(const RunConfig& cfg, const TaskData& data) {
  Rng init_rng(cfg.train.seed);
  SavedModel m;
  m.config = cfg;
  m.classes = data.classes;
  m.net = build_model(cfg.model, data.train.frames, data.train.coeffs, int(data.classes.size()),
                      init_rng);
  return m;
}

json params_to_json(nn::Sequential& net) {
  json out = json::array();
  for (size_t i = 0; i < net.size(); ++i)
    for (nn::Param* p : net.layer(i).params())
      out.push_back({{"layer", i},
                     {"name", p->name},
                     {"shape", p->value.shape},
                     {"max_norm", p->max_norm},
                     {"trainable", p->trainable},
                     {"live", p->live},
                     {"data", base64_encode(p->value.ptr(), p->value.size() * sizeof(float))}});
  return out;
}

void params_from_json(nn::Sequential& net, const json& params, const std::string& source) {
  size_t k = 0;
  for (size_t i = 0; i < net.size(); ++i) {
    for (nn::Param* p : net.layer(i).params()) {
      if (k >= params.size())
        throw Error(fmt::format("{}: params: fewer tensors than layers need", source));
      const json& j = params[k++];
      const std::string where = fmt::format("{}: params[{}]", source, k - 1);
      if (j.at("layer").get<size_t>() != i || j.at("name").get<std::string>() != p->name)
        throw Error(where + ": does not match the layer structure");
      // The layer built from "layers" fixes each shape; a file's own shape must agree (else a
      // layer would index past a smaller tensor, or run with weights laid out for another).
      const auto shape = j.at("shape").get<nn::Shape>();
      if (shape != p->value.shape)
        throw Error(fmt::format("{}: shape {} does not match the layer's {}", where,
                                nlohmann::json(shape).dump(),
                                nlohmann::json(p->value.shape).dump()));
      const auto bytes = base64_decode(j.at("data").get<std::string>());
      if (nn::shape_size(shape) * sizeof(float) != bytes.size())
        throw Error(where + ": data size does not match its shape");
      std::memcpy(p->value.ptr(), bytes.data(), bytes.size());
      p->max_norm = j.at("max_norm").get<float>();
      p->trainable = j.at("trainable").get<bool>();
      p->live = j.value("live", true);
    }
  }
  if (k != params.size())
    throw Error(fmt::format("{}: params: more tensors than layers need", source));
}

nn::Sequential clone_net(const nn::Sequential& net) {
  nn::Sequential copy = net_from_config(net.config());
  auto src = net.params();
  auto dst = copy.params();
  if (src.size() != dst.size()) throw Error("clone: parameter structure differs after rebuild");
  for (size_t i = 0; i < src.size(); ++i) {
    dst[i]->value = src[i]->value;
    dst[i]->grad.resize(src[i]->value.shape);
    dst[i]->max_norm = src[i]->max_norm;
    dst[i]->trainable = src[i]->trainable;
    dst[i]->live = src[i]->live;
  }
  return copy;
}

void save_model(const std::filesystem::path& path, SavedModel& m) {
  json j = {{"format", "dkws-model"},
            {"version", 1},
            {"config", m.config.to_json()},
            {"classes", m.classes},
            {"layers", m.net.config()},
            {"params", params_to_json(m.net)},
            {"training_state", m.training_state},
            {"metrics", m.metrics}};
  write_file_atomic(path, j.dump() + "\n");
}

SavedModel load_model(const std::filesystem::path& path) {
  const std::string source = path.string();
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw Error(fmt::format("{}: not a dkws model file (invalid JSON: {})", source, e.what()));
  }
  // Compared as JSON values: value("format", "") threw nlohmann's type_error when the key held
  // another type (found by fuzzing).
  if (!j.is_object() || j.value("format", json()) != "dkws-model")
    throw Error(
        fmt::format("{}: not a dkws model file (missing \"format\": \"dkws-model\")", source));
  if (j.value("version", json()) != 1)
    throw Error(fmt::format("{}: unsupported model file version {}", source,
                            j.value("version", json()).dump()));
  try {
    SavedModel m;
    json config = j.at("config");
    // Files written before model.dropout_at and model.init hold dkws's first AudioClassifier
    // (dropout after the conv blocks, Glorot init); say so instead of today's defaults.
    if (json* model = config.contains("model") ? &config["model"] : nullptr;
        model && model->is_object() && !model->contains("dropout_at")) {
      (*model)["dropout_at"] = "conv";
      if (!model->contains("init")) (*model)["init"] = "glorot";
    }
    m.config = parse_run_config(config, source + ": config");
    m.classes = j.at("classes").get<std::vector<std::string>>();
    try {
      m.net = net_from_config(j.at("layers"));
    } catch (const Error& e) {  // the layer's own message names the kind and key
      throw Error(fmt::format("{}: layers: {}", source, e.what()));
    }
    params_from_json(m.net, j.at("params"), source);
    m.training_state = j.value("training_state", json());
    m.metrics = j.value("metrics", json());
    return m;
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: malformed model file: {}", source, e.what()));
  }
}

}  // namespace dkws
