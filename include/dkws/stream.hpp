// Streaming keyword detection: a front end fed one slice at a time whose window features equal the
// offline front end's (dsp.hpp) bit for bit, the smoothing/threshold/suppression decision logic,
// and the Listener that joins them with a trained model.
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dkws/dsp.hpp"
#include "dkws/model_file.hpp"

namespace dkws {

// The features of a sliding window that moves by `hop` samples. Before the stream starts the
// window holds zeros, so the window after the first slice is [zeros, slice]. Each push analyses
// only the frames that the new samples complete; per window, only the steps that depend on the
// whole window are redone (the frames that pre-emphasis wraps around into, and MFCC's CMVN).
class StreamingFrontEnd {
 public:
  StreamingFrontEnd(const FrontEndConfig& cfg, int hop_samples);
  ~StreamingFrontEnd();
  StreamingFrontEnd(StreamingFrontEnd&&) noexcept;
  StreamingFrontEnd& operator=(StreamingFrontEnd&&) noexcept;

  int hop_samples() const;
  int window_samples() const;
  // Appends exactly hop_samples() samples (int16-scaled, at the configured rate) and returns the
  // features of the window ending with them: equal to compute_features() of that window. Valid
  // until the next push.
  const FeatureMatrix& push(std::span<const float> slice);
  long long samples_seen() const;  // real samples pushed so far
  size_t frames_analysed() const;  // FFT frames run so far (shows the work is incremental)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct DetectorOptions {
  double slice_seconds = 0.25;    // hop between classified windows
  double smooth_seconds = 0.75;   // scores are averaged over the last round(smooth/slice) slices
  double threshold = 0.7;         // smoothed keyword score needed to trigger
  double suppress_seconds = 1.0;  // no new detection this long after one
  void validate() const;          // throws dkws::Error naming the bad option
};

struct Detection {
  double time = 0;       // seconds from the stream start to the end of the triggering window
  int class_index = -1;  // index into the model's classes
  std::string label;
  double score = 0;  // the smoothed score that crossed the threshold
};

// Classes that are not keywords and never trigger: _unknown_, _silence_, unknown, silence, noise,
// _noise_, _background_noise_ (case-insensitive).
bool is_keyword_class(const std::string& label);

// The decision logic on its own: one score vector per slice in, at most one detection out. At
// slice k the smoothed score of class c is the mean of its last N = max(1, round(smooth/slice))
// scores (fewer at the start). The keyword class with the highest smoothed score triggers when
// that score >= threshold and the last detection was at slice k - S or earlier, with
// S = ceil(suppress/slice).
class DetectionLogic {
 public:
  DetectionLogic(std::vector<std::string> classes, const DetectorOptions& opt);
  // scores: one per class, for the window that ends at `time` seconds.
  std::optional<Detection> update(std::span<const float> scores, double time);
  int smooth_slices() const { return smooth_n_; }
  int suppress_slices() const { return suppress_n_; }
  const std::vector<bool>& triggers() const { return triggers_; }

 private:
  std::vector<std::string> classes_;
  std::vector<bool> triggers_;
  int smooth_n_, suppress_n_;
  std::vector<std::vector<float>> history_;  // ring of the last smooth_n_ score vectors
  long long slice_ = 0;
  long long last_detection_ = -1;
  double threshold_;
};

// A trained model listening to a stream: every slice it classifies the last window (softmax of
// the network's logits), then runs DetectionLogic. Classification starts once a whole window of
// audio has arrived (the first window ends at window_seconds).
class Listener {
 public:
  // Throws dkws::Error when the slice is not a whole number of samples at the model's rate.
  Listener(SavedModel& model, const DetectorOptions& opt);
  ~Listener();
  Listener(Listener&&) noexcept;

  int sample_rate() const;
  // Any number of samples at sample_rate(); complete slices are classified, the rest waits.
  void feed(std::span<const float> samples, std::vector<Detection>& out);
  // End of stream: a partial slice left over is padded with zeros and classified.
  void finish(std::vector<Detection>& out);
  // Softmax scores of the last classified window, and its end time (seconds).
  const std::vector<float>& last_scores() const;
  double last_time() const;
  long long windows() const;  // windows classified so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dkws
