// The checkpoints of the `pb` rules. Each holds what a reload puts back: the network, the epoch
// counter (a reload rewinds it, so discarded epochs do not count toward the budget), the error
// means e-bar of every wrapped layer, the history up to that epoch, and for a run that continues
// from it, its optimiser and scheduler.
#pragma once
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "dkws/nn/sequential.hpp"
#include "dkws/train.hpp"

namespace dkws {

struct PbCheckpoint {
  std::optional<nn::Sequential> net;  // absent for the best checkpoint: the trainer keeps that net
  int epoch = 0;
  std::vector<std::vector<double>> error_means;  // per wrapped layer
  nlohmann::json adam, scheduler;                // null: the run restarts its optimiser
  std::vector<EpochRecord> history;
};

nlohmann::json to_json(PbCheckpoint& c);
PbCheckpoint pb_checkpoint_from_json(const nlohmann::json& j, const std::string& source);

// e-bar of every wrapped layer of `net`, and putting it back (tracking it from then on or not).
std::vector<std::vector<double>> error_means(nn::Sequential& net);
void set_error_means(nn::Sequential& net, const std::vector<std::vector<double>>& means,
                     bool track);

}  // namespace dkws
