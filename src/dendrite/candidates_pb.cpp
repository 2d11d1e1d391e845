// The dendrite phase of the `pb` rules (candidates_pb.hpp): the error mean e-bar, the running
// correlation score, its gradient, the warm-up, the improvement test and the snapshot install.
#include "dendrite/candidates_pb.hpp"

#include <algorithm>
#include <cmath>

#include "dendrite/channel_ops.hpp"
#include "dendrite/dendrite_layer.hpp"
#include "dkws/error.hpp"

namespace dkws::dendrite {

using nn::Param;
using nn::Tensor;

namespace {
constexpr double kDecay = 0.99;  // every running statistic of the pb rules

// The running average: plain (the mean of the n values so far) during warm-up, else an EMA.
double running(double old, double value, int n, bool warm) {
  return warm ? old + (value - old) / double(n) : kDecay * old + (1.0 - kDecay) * value;
}
}  // namespace

bool pb_improves(const std::vector<double>& best, const std::vector<double>& record) {
  bool tenth = false, raw = false;
  for (size_t i = 0; i < best.size(); ++i) {
    tenth = tenth || best[i] * 0.9 > record[i];
    raw = raw || best[i] > record[i] + 1e-5;
  }
  return tenth && raw;
}

void DendriteLayer::track_error_mean(bool on) {
  pb_.track_error = on;
  if (pb_.error_mean.empty()) pb_.error_mean.assign(size_t(channels_), 0.0);
}

void DendriteLayer::set_error_mean(std::vector<double> mean) {
  if (mean.size() != size_t(channels_))
    throw Error("dendrites: an error mean needs one value per channel");
  pb_.error_mean = std::move(mean);
}

void DendriteLayer::update_error_mean(const Tensor& e) {
  const size_t C = size_t(channels_), positions = e.size() / C;
  std::vector<float>& sum = batch_sum_e_;
  sum.assign(C, 0.f);
  accumulate_channel_sum(e.ptr(), sum.data(), positions, C);
  if (pb_.error_mean.size() != C) pb_.error_mean.assign(C, 0.0);
  for (size_t c = 0; c < C; ++c)
    pb_.error_mean[c] =
        kDecay * pb_.error_mean[c] + (1.0 - kDecay) * double(sum[c]) / double(positions);
}

void DendriteLayer::begin_pb_candidates(int k, Rng& rng, const PbCandidateOptions& options) {
  begin_candidates(k, rng);
  const size_t C = size_t(channels_);
  for (Candidate& cand : candidates_) {
    for (Param* p : cand.g->params())
      for (float& w : p->value.data) w = float(options.init_stddev * rng.normal());
    cand.pb = PbCandidateStats{};
    for (auto* v : {&cand.pb.mean_d, &cand.pb.corr, &cand.pb.best, &cand.pb.record})
      v->assign(C, 0.0);
  }
  if (pb_.error_mean.size() != C) pb_.error_mean.assign(C, 0.0);
  pb_.active = true;
  pb_.track_error = false;  // e-bar stays as restored for the whole phase
  pb_.options = options;
  pb_.batches = 0;
  pb_.epoch_improved = false;
}

void DendriteLayer::train_pb_candidates(const Tensor& x, const Tensor& e) {
  const size_t C = size_t(channels_), positions = e.size() / C;
  const bool warm = ++pb_.batches <= pb_.options.warmup_batches;
  const double reduce = pb_.options.mean_reduce ? 1.0 / double(positions) : 1.0;
  std::vector<double> all_best, all_record;
  for (Candidate& cand : candidates_) {
    PbCandidateStats& st = cand.pb;
    candidate_forward(cand, x, e);
    const std::vector<float>& sum_d = batch_sum_d_;
    const std::vector<float>& de = batch_de_;
    for (size_t c = 0; c < C; ++c) {
      const double ebar = pb_.error_mean[c];
      // The sign of the correlation before this batch steers this batch's ascent.
      const double sign = st.corr[c] > 0 ? 1.0 : (st.corr[c] < 0 ? -1.0 : 0.0);
      neg_mean_e_[c] = float(-ebar);
      signed_scale_[c] = float(-sign * reduce);
      // X = sum_p d (e - e-bar) = sum d e - e-bar sum d.
      const double x_c = (double(de[c]) - ebar * double(sum_d[c])) * reduce;
      st.mean_d[c] = running(st.mean_d[c], double(sum_d[c]) / double(positions), pb_.batches, warm);
      st.corr[c] = running(st.corr[c], x_c - st.mean_d[c] * ebar, pb_.batches, warm);
      st.best[c] = std::max(st.best[c], std::abs(st.corr[c]));
    }
    all_best.insert(all_best.end(), st.best.begin(), st.best.end());
    all_record.insert(all_record.end(), st.record.begin(), st.record.end());
    // Warm-up: the statistics settle while no gradient is written, so nothing learns.
    if (!warm) candidate_backward(cand, x, e, neg_mean_e_, signed_scale_);
  }
  if (pb_improves(all_best, all_record)) {
    pb_.epoch_improved = true;
    for (Candidate& cand : candidates_) cand.pb.record = cand.pb.best;
  }
}

bool DendriteLayer::end_pb_epoch() {
  const bool improved = pb_.epoch_improved;
  pb_.epoch_improved = false;
  if (!improved) return false;
  for (Candidate& cand : candidates_) {
    cand.pb.snapshot.clear();
    for (const Param* p : cand.g->params()) cand.pb.snapshot.push_back(p->value.data);
    cand.pb.snapshot_best = cand.pb.best;
  }
  return true;
}

double DendriteLayer::pb_score() const {
  if (candidates_.empty()) return 0;
  double total = 0;
  for (size_t c = 0; c < size_t(channels_); ++c) {
    double best = 0;
    for (const Candidate& cand : candidates_) best = std::max(best, std::abs(cand.pb.corr[c]));
    total += best;
  }
  return total / channels_;
}

// Per channel, the candidate whose last snapshot scored best (installed as snapshot, v = 0).
void DendriteLayer::install_pb_candidates() {
  std::vector<size_t> pick(size_t(channels_), 0);
  for (size_t c = 0; c < pick.size(); ++c)
    for (size_t k = 1; k < candidates_.size(); ++k) {
      const PbCandidateStats &now = candidates_[k].pb, &was = candidates_[pick[c]].pb;
      if (!now.snapshot.empty() &&
          (was.snapshot.empty() || now.snapshot_best[c] > was.snapshot_best[c]))
        pick[c] = k;
    }
  install_candidate_rows(pick);
}

}  // namespace dkws::dendrite
