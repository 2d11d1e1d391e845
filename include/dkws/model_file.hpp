// The model file: one JSON document holding everything needed to rebuild a trained model and get
// the same outputs bit for bit.
//
//   {
//     "format": "dkws-model", "version": 1,
//     "config":  { ...RunConfig... },          // task, front end, model, train, dendrites
//     "classes": ["yes", "no", ...],
//     "layers":  [ {layer config}, ... ],       // Sequential::config(), dendrite wrappers included
//     "params":  [ {"layer": i, "name": "weight", "shape": [...], "max_norm": 0,
//                   "trainable": true, "data": "<base64 float32 little-endian>"}, ... ],
//     "training_state": { ... } | null,         // optimiser, scheduler, tracker, rng: for resume
//     "metrics": { ... } | null
//   }
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/nn/sequential.hpp"

namespace dkws {

struct SavedModel {
  RunConfig config;
  std::vector<std::string> classes;
  nn::Sequential net;
  nlohmann::json training_state;  // null when absent
  nlohmann::json metrics;         // null when absent
};

// A new model for a run config on its task: the network built and initialised from train.seed,
// with the config and the task's classes, before any training.
SavedModel new_model(const RunConfig& cfg, const TaskData& data);

nlohmann::json params_to_json(nn::Sequential& net);
// Copies values (and flags) from params_to_json output into a net of the same structure.
void params_from_json(nn::Sequential& net, const nlohmann::json& params, const std::string& source);
// A deep copy: same layers, same weights and flags.
nn::Sequential clone_net(const nn::Sequential& net);

void save_model(const std::filesystem::path& path, SavedModel& model);  // atomic
// Throws dkws::Error naming the file for anything malformed.
SavedModel load_model(const std::filesystem::path& path);

}  // namespace dkws
