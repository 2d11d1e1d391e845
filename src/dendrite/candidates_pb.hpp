// State of the `pb` rules' dendrite phase (dendrites.rules "pb"; DendriteLayer's candidates_pb.cpp
// trains with it). Per neuron c of a wrapped layer, with e = dL/dy and d the candidate's output:
//
//   e-bar_c  moving average (0.99) of the batch mean of e, updated on neuron-phase batches and
//            frozen through the dendrite phase
//   X_c      = sum_p d_pc (e_pc - e-bar_c)                      (or the mean over p)
//   m_c      <- 0.99 m_c + 0.01 mean_p d_pc
//   C_c      <- 0.99 C_c + 0.01 (X_c - m_c e-bar_c)             (the running correlation)
//   best_c   = running max of |C_c|; dA_pc = -sign(C_c before the batch) (e_pc - e-bar_c) s'(a_pc)
//
// For the first `warmup_batches` batches m and C are plain averages and nothing learns. A batch
// on which some neuron's 0.9 best exceeds its record, and some neuron's best exceeds its record
// by 1e-5, marks the epoch as improving and raises every record to its best; each improving epoch
// ends with a snapshot of the candidates, and the last snapshot is what gets installed.
#pragma once
#include <vector>

namespace dkws::dendrite {

struct PbCandidateOptions {
  int warmup_batches = 0;      // dendrites.initial_correlation_batches
  bool mean_reduce = false;    // dendrites.correlation_reduce "mean"
  double init_stddev = 0.001;  // weights and biases ~ N(0, init_stddev^2)
};

// One candidate's statistics, per channel.
struct PbCandidateStats {
  std::vector<double> mean_d, corr, best, record;
  std::vector<std::vector<float>> snapshot;  // g's parameter values at the last improving epoch
  std::vector<double> snapshot_best;         // best at that snapshot, to pick among candidates
};

// The layer-wide part.
struct PbLayerState {
  bool active = false;       // the live candidates follow the pb rules
  bool track_error = false;  // e-bar follows training batches (the neuron phase)
  std::vector<double> error_mean;
  PbCandidateOptions options;
  int batches = 0;  // batches seen in this dendrite phase
  bool epoch_improved = false;
};

// The improvement test over all neurons: some best * 0.9 > its record and some best > its
// record + 1e-5 (not necessarily the same neuron).
bool pb_improves(const std::vector<double>& best, const std::vector<double>& record);

}  // namespace dkws::dendrite
