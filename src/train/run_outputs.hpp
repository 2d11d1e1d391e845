// The files a training run leaves beside its model: metrics.json, the confusion matrix (CSV and
// SVG), the per-epoch history (CSV) and the training graph (SVG).
#pragma once
#include <filesystem>

#include <nlohmann/json.hpp>

#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/nn/sequential.hpp"
#include "dkws/train.hpp"

namespace dkws {

nlohmann::json run_metrics_json(const RunConfig& cfg, const TaskData& data, const TrainResult& r,
                                size_t params_base, const nn::Sequential& net);
void write_run_outputs(const std::filesystem::path& dir, const TaskData& data, const TrainResult& r,
                       const nlohmann::json& metrics);

}  // namespace dkws
