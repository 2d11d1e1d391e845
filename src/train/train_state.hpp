// Serialising a run in progress: epoch records and the checkpoint JSON used to resume.
#pragma once
#include <nlohmann/json.hpp>

#include "dkws/nn/sequential.hpp"
#include "dkws/train.hpp"

namespace dkws {

nlohmann::json to_json(const EpochRecord& r);
EpochRecord epoch_record_from_json(const nlohmann::json& j);
// A network as {layers, params}; net_from_json rebuilds it exactly.
nlohmann::json net_to_json(nn::Sequential& net);
nn::Sequential net_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace dkws
