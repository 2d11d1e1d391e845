// A layer f (Conv1D, Conv2D or Dense) with D Dendrite Nodes (docs/design.md section 5):
//
//   a_k = g_k(x) + sum_{j<k} u_kj (.) h_j      h_k = sigma(a_k)      y = f(x) + sum_k v_k (.) h_k
//
// g_k has f's shape; u_kj and v_k are per-channel vectors broadcast over batch and positions.
// When `perforated`, backward sends the error to the input through f only (cc); otherwise also
// through every g_k, frozen or not (gd). During a dendrite phase the layer also trains candidate
// dendrites on the cascade-correlation score inside backward, where it sees e = dL/dy.
//
// forward_reference / backward_reference (dendrite_reference.cpp) are this math as plain loops, the
// definition. Every other implementation points back to them:
//   - dendrite_layer.cpp: the fast forward and backward, blocked over positions;
//   - candidates.cpp: the candidates' forward and cascade-correlation gradient, fast;
//   - src/deploy/quantize.cpp: calibration rebuilds a_k; the int8 fold of g_k, u_kj, v_k, sigma;
//   - src/deploy/int8_engine.cpp: the C++ int8 forward (run_conv);
//   - src/deploy/c/kws_ops.c: the generated C library's int8 forward (kws_conv_s8);
//   - src/deploy/onnx/onnx_layers.cpp: the forward as ONNX nodes (weighted_layer);
//   - tools/torch/make_dendrite_fixtures.py: forward, backward and candidate gradient in PyTorch,
//     the fixtures tests/test_dendrite_torch.cpp holds both paths to.
#pragma once
#include <memory>
#include <vector>

#include "dendrite/activation.hpp"
#include "dendrite/candidates_pb.hpp"
#include "dkws/nn/layer.hpp"

namespace dkws::dendrite {

class DendriteLayer final : public nn::Layer {
 public:
  DendriteLayer(std::unique_ptr<nn::Layer> base, Activation act, bool perforated);

  std::string kind() const override { return "dendrite"; }
  nn::Shape output_shape(const nn::Shape& in) const override { return base_->output_shape(in); }
  void forward(const nn::Tensor& x, nn::Tensor& y, const nn::ForwardContext& ctx) override;
  void backward(const nn::Tensor& x, const nn::Tensor& y, const nn::Tensor& dy,
                nn::Tensor* dx) override;
  // The same as plain loops over positions and channels (dendrite_reference.cpp): the same outputs,
  // state, gradients and candidate statistics up to float rounding, for tests to hold the fast
  // path to.
  void forward_reference(const nn::Tensor& x, nn::Tensor& y, const nn::ForwardContext& ctx);
  void backward_reference(const nn::Tensor& x, const nn::Tensor& y, const nn::Tensor& dy,
                          nn::Tensor* dx);
  std::vector<nn::Param*> params() override;
  nlohmann::json config() const override;
  void init(Rng& rng) override { base_->init(rng); }
  double macs_per_item(const nn::Shape& in) const override;

  nn::Layer& base() { return *base_; }
  // Without dendrites or candidates the layer computes exactly its base (unless it must see the
  // errors to average them).
  nn::Layer* transparent_base() override {
    return dendrites_.empty() && candidates_.empty() && !pb_.track_error ? base_.get() : nullptr;
  }
  int dendrites() const { return int(dendrites_.size()); }
  int channels() const { return channels_; }
  Activation activation() const { return act_; }
  bool perforated() const { return perforated_; }

  // Installs g with v = 0 and u = 0, so outputs do not change. g must have f's shape.
  void add_dendrite(std::unique_ptr<nn::Layer> g);
  // Trainable flags for the neuron phase: f, v, and u (if train_cascade) trainable; g_k trainable
  // when not perforated (gd trains everything jointly) or when train_dendrites (pb's update mode:
  // g_k learns from v_k's error, its input error still perforated).
  void set_neuron_phase(bool train_cascade, bool train_dendrites = false);
  // Freezes every installed parameter (dendrite phase: only candidates learn).
  void freeze_all();

  // --- dendrite phase ---
  // Starts K fresh candidates (Glorot-initialised copies of f, cascade weights 0) and resets the
  // correlation statistics.
  void begin_candidates(int k, Rng& rng);
  bool has_candidates() const { return !candidates_.empty(); }
  std::vector<nn::Param*> candidate_params();
  // |sum_p (d - mean d)(e - mean e)| / positions for each candidate and channel, over the epoch.
  std::vector<std::vector<double>> epoch_scores() const;
  // Mean over channels of the best candidate's score: the layer's "dendrite score".
  double epoch_score() const;
  void reset_epoch_scores();
  // Ends a classic dendrite-phase epoch: for each candidate and channel whose score this epoch
  // beats its best so far, that channel's rows of the candidate (g and u) are copied aside.
  void keep_best_candidate_rows();
  // Installs, per channel, the candidate with the best score: classic rules, the best over the
  // epochs kept by keep_best_candidate_rows and the rows of that epoch (this epoch's score and
  // rows if none was kept); pb rules, the last improving epoch's snapshot. Drops the candidates.
  void install_best_candidates();
  void drop_candidates() { candidates_.clear(); }

  // --- the pb rules (candidates_pb.hpp) ---
  // While on, every backward moves e-bar toward the batch mean of e (neuron phase).
  void track_error_mean(bool on);
  const std::vector<double>& error_mean() const { return pb_.error_mean; }
  void set_error_mean(std::vector<double> mean);
  // Starts K candidates with weights and biases ~ N(0, stddev^2), cascade weights 0.
  void begin_pb_candidates(int k, Rng& rng, const PbCandidateOptions& options);
  // Ends a dendrite-phase epoch: true when it improved, and then the candidates are snapshot.
  bool end_pb_epoch();
  const PbCandidateStats& pb_stats(int k) const { return candidates_[size_t(k)].pb; }
  // For tests and export: installed dendrite k's layer, last activation h_k, and v_k / u_kj.
  nn::Layer& dendrite_layer(int k) { return *dendrites_[size_t(k)].g; }
  const nn::Tensor& dendrite_output(int k) const { return dendrites_[size_t(k)].h; }
  nn::Param& output_weight(int k) { return dendrites_[size_t(k)].v; }
  nn::Param& cascade_weight(int k, int j) { return dendrites_[size_t(k)].u[size_t(j)]; }
  nn::Layer& candidate_layer(int k) { return *candidates_[size_t(k)].g; }
  nn::Param& candidate_cascade(int k, int j) { return candidates_[size_t(k)].u[size_t(j)]; }

 private:
  struct Dendrite {
    std::unique_ptr<nn::Layer> g;
    nn::Param v;               // [C]
    std::vector<nn::Param> u;  // u[j]: [C], j < this dendrite's index
    nn::Tensor a, h, da;  // pre-activation, activation, its error: from the last forward / backward
    nn::Param* g_weight = nullptr;  // g's first param: its trainable flag, without a params() call
    bool learns() const {
      bool any = v.trainable || g_weight->trainable;
      for (const nn::Param& p : u) any = any || p.trainable;
      return any;
    }
  };
  struct Candidate {
    std::unique_ptr<nn::Layer> g;
    std::vector<nn::Param> u;  // one per installed dendrite
    nn::Tensor a, d, dA;
    std::vector<double> sum_d;  // running sum of d per channel over the phase
    std::vector<double> epoch_cov;
    // Classic rules: per channel, the best epoch score so far and the rows at that epoch.
    std::vector<double> best_score;
    std::vector<std::vector<float>> best_g;  // like g->params(); row c from channel c's best
    std::vector<std::vector<float>> best_u;  // like u
    PbCandidateStats pb;
  };

  // sum_{j<k} u_j (.) h_j added into a (channels-last, any rank).
  void add_cascade(const std::vector<nn::Param>& u, nn::Tensor& a) const;
  void train_candidates(const nn::Tensor& x, const nn::Tensor& e);
  void train_candidates_reference(const nn::Tensor& x, const nn::Tensor& e);
  void train_pb_candidates(const nn::Tensor& x, const nn::Tensor& e);
  void update_error_mean(const nn::Tensor& e);
  void install_pb_candidates();
  // Installs candidate pick[c]'s row for each channel c and drops the candidates.
  void install_candidate_rows(const std::vector<size_t>& pick);
  double pb_score() const;  // mean over channels of the best candidate's |C|
  // The candidate's output d = sigma(g(x) + cascade) into cand.a / cand.d, and its batch sums
  // per channel: sum_p d into batch_sum_d_, sum_p d e into batch_de_.
  void candidate_forward(Candidate& cand, const nn::Tensor& x, const nn::Tensor& e);
  // Backpropagates dA = scale_c (e + shift_c) sigma'(a) into g's and the cascade's gradients.
  void candidate_backward(Candidate& cand, const nn::Tensor& x, const nn::Tensor& e,
                          const nn::Tensor& shift, const nn::Tensor& scale);

  std::unique_ptr<nn::Layer> base_;
  Activation act_;
  bool perforated_;
  int channels_;
  std::vector<Dendrite> dendrites_;
  std::vector<Candidate> candidates_;
  std::vector<double> sum_e_;  // running sum of e per channel over the phase
  double count_ = 0, epoch_count_ = 0;
  nn::Tensor dx_scratch_, dh_, da_block_;
  // Candidate training scratch, one value per channel.
  std::vector<float> batch_sum_e_, batch_sum_d_, batch_de_;
  nn::Tensor neg_mean_e_, signed_scale_;
  PbLayerState pb_;
};

// Builds a DendriteLayer from its config(); the model stage's dkws::layer_from_config calls it.
std::unique_ptr<nn::Layer> make_dendrite_layer(const nlohmann::json& cfg);
// Live parameters of a wrapped layer with P base params, C channels and D dendrites:
// P(D+1) + CD + C D(D-1)/2.
size_t dendrite_param_count(size_t base_params, int channels, int dendrites);

}  // namespace dkws::dendrite
