// The Listener: audio in, detections out. Buffers samples into slices, runs the streaming front
// end on each, classifies the window with the model (eval mode, batch of one) and hands the
// softmax scores to the decision logic.
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "dkws/error.hpp"
#include "dkws/nn/sequential.hpp"
#include "dkws/stream.hpp"

namespace dkws {
namespace {

int slice_samples(const DetectorOptions& opt, int rate) {
  opt.validate();
  const double v = opt.slice_seconds * rate;
  const long long n = std::llround(v);
  if (n < 1 || std::fabs(v - static_cast<double>(n)) > 1e-6)
    throw Error(fmt::format("--slice-ms {} is not a whole number of samples at {} Hz",
                            opt.slice_seconds * 1000, rate));
  return static_cast<int>(n);
}

}  // namespace

struct Listener::Impl {
  nn::Sequential& net;
  int rate;
  StreamingFrontEnd fe;
  DetectionLogic logic;
  std::vector<float> pending;
  nn::Tensor x;
  std::vector<float> scores;
  double time = 0;
  long long windows = 0;

  Impl(SavedModel& m, const DetectorOptions& opt)
      : net(m.net),
        rate(m.config.front_end.sample_rate),
        fe(m.config.front_end, slice_samples(opt, m.config.front_end.sample_rate)),
        logic(m.classes, opt) {
    // A network that cannot take this front end's features (an edited or mismatched model file)
    // is refused here, not on the first window.
    const int dim = m.config.front_end.frames() * m.config.front_end.coeffs();
    nn::Shape out;
    try {
      out = net.output_shape({1, dim});
    } catch (const Error& e) {
      throw Error(
          fmt::format("the network does not take the front end's {} features: {}", dim, e.what()));
    }
    if (out != nn::Shape{1, static_cast<int>(m.classes.size())})
      throw Error(fmt::format("the network has {} outputs for {} classes", nn::shape_size(out),
                              m.classes.size()));
    pending.reserve(static_cast<size_t>(fe.hop_samples()));
    scores.assign(m.classes.size(), 0.f);
  }

  void classify(std::span<const float> slice, std::vector<Detection>& out) {
    const FeatureMatrix& f = fe.push(slice);
    // Until a whole window of audio has arrived the window is partly the zeros before the stream:
    // digital silence no model was trained on (a kw3 model calls it "yes"). Those windows only
    // fill the front end's ring.
    if (fe.samples_seen() < fe.window_samples()) return;
    x.resize({1, static_cast<int>(f.data.size())});
    std::copy(f.data.begin(), f.data.end(), x.ptr());
    const nn::Tensor& logits = net.forward(x, nn::ForwardContext{false, nullptr});
    if (logits.size() != scores.size())
      throw Error(
          fmt::format("model gives {} outputs for {} classes", logits.size(), scores.size()));
    // Softmax in double, shifted by the maximum so no exp overflows.
    const float mx = *std::max_element(logits.data.begin(), logits.data.end());
    double sum = 0;
    for (size_t c = 0; c < scores.size(); ++c) sum += std::exp(double(logits[c]) - mx);
    for (size_t c = 0; c < scores.size(); ++c)
      scores[c] = static_cast<float>(std::exp(double(logits[c]) - mx) / sum);
    time = static_cast<double>(fe.samples_seen()) / rate;
    ++windows;
    if (auto d = logic.update(scores, time)) out.push_back(*d);
  }

  void feed(std::span<const float> samples, std::vector<Detection>& out) {
    const auto hop = static_cast<size_t>(fe.hop_samples());
    while (!samples.empty()) {
      if (pending.empty() && samples.size() >= hop) {  // whole slices straight from the input
        classify(samples.first(hop), out);
        samples = samples.subspan(hop);
        continue;
      }
      const size_t take = std::min(hop - pending.size(), samples.size());
      pending.insert(pending.end(), samples.begin(), samples.begin() + take);
      samples = samples.subspan(take);
      if (pending.size() == hop) {
        classify(pending, out);
        pending.clear();
      }
    }
  }
};

Listener::Listener(SavedModel& model, const DetectorOptions& opt)
    : impl_(std::make_unique<Impl>(model, opt)) {}
Listener::~Listener() = default;
Listener::Listener(Listener&&) noexcept = default;

int Listener::sample_rate() const {
  return impl_->rate;
}
void Listener::feed(std::span<const float> samples, std::vector<Detection>& out) {
  impl_->feed(samples, out);
}
void Listener::finish(std::vector<Detection>& out) {
  if (impl_->pending.empty()) return;
  impl_->pending.resize(static_cast<size_t>(impl_->fe.hop_samples()), 0.f);
  impl_->classify(impl_->pending, out);
  impl_->pending.clear();
}
const std::vector<float>& Listener::last_scores() const {
  return impl_->scores;
}
double Listener::last_time() const {
  return impl_->time;
}
long long Listener::windows() const {
  return impl_->windows;
}

}  // namespace dkws
