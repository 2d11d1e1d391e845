// The streaming front end against the offline one (bit-exact on every slice-aligned window, for
// MFCC and MFE, default and awkward framings, synthetic and real audio), its incremental cost, and
// the detector's smoothing / threshold / suppression rules on scripted score sequences.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "dkws/audio.hpp"
#include "dkws/dsp.hpp"
#include "dkws/error.hpp"
#include "dkws/rng.hpp"
#include "dkws/stream.hpp"
#include "test_util.hpp"

namespace {

using dkws::FeatureMatrix;
using dkws::FrontEndConfig;

// Chirps, a tone, noise and a silent gap: exercises every mel band, the zero-energy floor, and
// sample values near int16 limits.
std::vector<float> synthetic_signal(int n, int rate, uint64_t seed) {
  dkws::Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double t = double(i) / rate;
    double v =
        6000 * std::sin(2 * M_PI * (200 + 900 * t) * t) + 3000 * std::sin(2 * M_PI * 1234 * t);
    v += 500 * rng.normal();
    if (t > 1.3 && t < 1.6) v = 0;   // digital silence
    if (t > 2.2 && t < 2.3) v *= 4;  // loud burst (clipped below)
    x[static_cast<size_t>(i)] = static_cast<float>(std::round(std::clamp(v, -32768.0, 32767.0)));
  }
  return x;
}

// Pushes `signal` slice by slice and checks every window against compute_features of the same
// window (zeros before the stream start, as the streaming front end defines it).
void expect_equal_to_offline(const std::vector<float>& signal, const FrontEndConfig& cfg, int hop,
                             const std::string& what) {
  dkws::StreamingFrontEnd fe(cfg, hop);
  const int win = fe.window_samples();
  std::vector<float> padded(static_cast<size_t>(win), 0.f);
  padded.insert(padded.end(), signal.begin(), signal.end());
  int windows = 0;
  for (size_t start = 0; start + size_t(hop) <= signal.size(); start += size_t(hop)) {
    const FeatureMatrix& got = fe.push(std::span<const float>(signal).subspan(start, size_t(hop)));
    // The window ends with the slice just pushed: padded[start + hop, start + hop + win).
    const std::span<const float> window(padded.data() + start + hop, size_t(win));
    const FeatureMatrix want = dkws::compute_features(window, cfg);
    ASSERT_EQ(got.frames, want.frames) << what;
    ASSERT_EQ(got.coeffs, want.coeffs) << what;
    ASSERT_EQ(got.data.size(), want.data.size()) << what;
    // Bit for bit: memcmp, not a tolerance.
    for (size_t i = 0; i < want.data.size(); ++i)
      ASSERT_EQ(std::memcmp(&got.data[i], &want.data[i], sizeof(float)), 0)
          << what << ": window " << windows << " value " << i << " streaming " << got.data[i]
          << " offline " << want.data[i];
    ++windows;
  }
  EXPECT_GE(windows, 5) << what;
}

TEST(StreamingFrontEnd, MfccEqualsOfflineOnEveryWindow) {
  FrontEndConfig cfg;  // MFCC defaults: 20 ms frames and stride, CMVN 101, pre-emphasis 0.98/1
  const auto x = synthetic_signal(16000 * 4, 16000, 1);
  expect_equal_to_offline(x, cfg, 4000, "mfcc hop 250 ms");    // hop = 12.5 strides
  expect_equal_to_offline(x, cfg, 3200, "mfcc hop 200 ms");    // hop = 10 strides
  expect_equal_to_offline(x, cfg, 3000, "mfcc hop 187.5 ms");  // gcd(3000, 320) = 40
}

TEST(StreamingFrontEnd, MfccEqualsOfflineWithOverlapShiftAndNoCmvn) {
  FrontEndConfig cfg;
  cfg.set("frame_length", "0.025");
  cfg.set("frame_stride", "0.01");
  cfg.set("pre_shift", "3");
  cfg.set("num_filters", "40");
  cfg.set("fft_length", "512");
  const auto x = synthetic_signal(16000 * 3, 16000, 2);
  expect_equal_to_offline(x, cfg, 4000, "mfcc 25/10 ms shift 3");
  cfg.set("pre_shift", "400");  // wraps into the first three frames of every window
  expect_equal_to_offline(x, cfg, 4000, "mfcc shift 400");
  cfg.set("win_size", "0");
  expect_equal_to_offline(x, cfg, 4000, "mfcc without CMVN");
  cfg.set("win_size", "7");  // CMVN window shorter than the matrix
  expect_equal_to_offline(x, cfg, 4000, "mfcc CMVN 7");
}

TEST(StreamingFrontEnd, MfeEqualsOffline) {
  FrontEndConfig cfg;
  cfg.set("block", "mfe");  // 20 ms frames every 10 ms, 40 filters, float32 pre-emphasis
  const auto x = synthetic_signal(16000 * 3, 16000, 3);
  expect_equal_to_offline(x, cfg, 4000, "mfe hop 250 ms");
  expect_equal_to_offline(x, cfg, 1000, "mfe hop 62.5 ms");
}

TEST(StreamingFrontEnd, OtherRateWindowAndHopLongerThanWindow) {
  FrontEndConfig cfg;
  cfg.set("sample_rate", "8000");
  cfg.set("window_seconds", "0.75");
  cfg.set("fft_length", "128");
  cfg.set("num_filters", "20");
  const auto x = synthetic_signal(8000 * 6, 8000, 4);
  expect_equal_to_offline(x, cfg, 2000, "8 kHz, 0.75 s window");
  expect_equal_to_offline(x, cfg, 7000, "hop longer than the window");
}

TEST(StreamingFrontEnd, AnalysesOnlyTheNewFrames) {
  FrontEndConfig cfg;
  dkws::StreamingFrontEnd fe(cfg, 4000);
  const auto x = synthetic_signal(16000 * 5, 16000, 5);
  std::vector<size_t> per_push;
  size_t before = 0;
  for (size_t s = 0; s + 4000 <= x.size(); s += 4000) {
    fe.push(std::span<const float>(x).subspan(s, 4000));
    per_push.push_back(fe.frames_analysed() - before);
    before = fe.frames_analysed();
  }
  // The first window analyses its whole grid (two phases of 20 ms frames: 49 + 49 start on the
  // gcd(4000, 320) = 160-sample grid inside it, except the wrapped frame 0, + frame 0 itself).
  // After that each slice costs its 4000 / 160 = 25 new grid frames plus the one wrapped frame:
  // 26, against 50 for recomputing the window.
  for (size_t i = 4; i < per_push.size(); ++i) EXPECT_EQ(per_push[i], 26u) << "push " << i;
  EXPECT_EQ(fe.samples_seen(), 16000 * 5);
}

TEST(StreamingFrontEnd, RejectsBadSlices) {
  FrontEndConfig cfg;
  EXPECT_THROW(dkws::StreamingFrontEnd(cfg, 0), dkws::Error);
  dkws::StreamingFrontEnd fe(cfg, 4000);
  std::vector<float> short_slice(100);
  EXPECT_THROW(fe.push(short_slice), dkws::Error);
}

// Test-split clips from several classes back to back, plus a background-noise stretch: real
// speech onsets, silences and level changes across window boundaries.
TEST(StreamingFrontEnd, EqualsOfflineOnRealSpeech) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "no data at " << dkws::testing::data_dir();
  const auto root = dkws::testing::data_dir() / "speech_commands_v2_test";
  std::ifstream tsv(root / "splits.tsv");
  std::string line;
  std::getline(tsv, line);  // header
  std::vector<float> longclip;
  std::set<std::string> labels;
  while (std::getline(tsv, line) && labels.size() < 8) {
    std::istringstream fields(line);
    std::string split, label, path;
    std::getline(fields, split, '\t');
    std::getline(fields, label, '\t');
    std::getline(fields, path);
    if (split != "test" || labels.count(label)) continue;
    labels.insert(label);
    const auto clip = dkws::load_audio(root / path);
    longclip.insert(longclip.end(), clip.begin(), clip.end());
  }
  ASSERT_EQ(labels.size(), 8u);
  auto noise = dkws::load_audio(dkws::testing::data_dir() / "background_noise" / "running_tap.flac",
                                {16000, 2.0});
  longclip.insert(longclip.end(), noise.begin(), noise.end());
  FrontEndConfig mfcc;
  expect_equal_to_offline(longclip, mfcc, 4000, "real speech, mfcc");
  FrontEndConfig mfe;
  mfe.set("block", "mfe");
  expect_equal_to_offline(longclip, mfe, 4000, "real speech, mfe");
}

// ---- decision logic ----

dkws::DetectorOptions opts(double slice, double smooth, double threshold, double suppress) {
  dkws::DetectorOptions o;
  o.slice_seconds = slice;
  o.smooth_seconds = smooth;
  o.threshold = threshold;
  o.suppress_seconds = suppress;
  return o;
}

// Runs the logic over rows of scores (one per slice, time = (k+1) * slice) and returns
// "k:label" for each detection.
std::vector<std::string> detect(dkws::DetectionLogic& logic,
                                const std::vector<std::vector<float>>& rows, double slice) {
  std::vector<std::string> out;
  for (size_t k = 0; k < rows.size(); ++k) {
    if (auto d = logic.update(rows[k], double(k + 1) * slice)) {
      EXPECT_DOUBLE_EQ(d->time, double(k + 1) * slice);
      out.push_back(std::to_string(k) + ":" + d->label);
    }
  }
  return out;
}

TEST(DetectionLogic, ThresholdWithoutSmoothing) {
  dkws::DetectionLogic logic({"yes", "no", "_unknown_", "_silence_"}, opts(0.25, 0, 0.5, 0));
  EXPECT_EQ(logic.smooth_slices(), 1);
  EXPECT_EQ(logic.suppress_slices(), 0);
  const std::vector<std::vector<float>> rows = {
      {0.1f, 0.1f, 0.8f, 0.0f},    // _unknown_ never triggers
      {0.5f, 0.2f, 0.3f, 0.0f},    // exactly at the threshold: triggers
      {0.49f, 0.0f, 0.0f, 0.51f},  // just below
      {0.0f, 0.9f, 0.1f, 0.0f},    // no suppression: every slice can trigger
      {0.0f, 0.9f, 0.1f, 0.0f},   {0.0f, 0.0f, 0.0f, 1.0f}};  // _silence_ never triggers
  EXPECT_EQ(detect(logic, rows, 0.25), (std::vector<std::string>{"1:yes", "3:no", "4:no"}));
}

TEST(DetectionLogic, SmoothingIsTheMeanOfTheLastSlices) {
  // smooth 0.75 s / 0.25 s = mean of the last 3 slices (fewer at the start).
  dkws::DetectionLogic logic({"yes", "_unknown_"}, opts(0.25, 0.75, 0.55, 0));
  EXPECT_EQ(logic.smooth_slices(), 3);
  const std::vector<std::vector<float>> rows = {
      {0.3f, 0.7f},    // mean 0.3
      {0.9f, 0.1f},    // mean (0.3 + 0.9) / 2 = 0.6 >= 0.55: triggers
      {0.0f, 1.0f},    // mean 0.4
      {0.9f, 0.1f},    // (0.9 + 0 + 0.9) / 3 = 0.6: triggers
      {0.2f, 0.8f},    // (0 + 0.9 + 0.2) / 3 = 0.367
      {0.95f, 0.05f},  // (0.9 + 0.2 + 0.95) / 3 = 0.683: triggers
      {0.0f, 1.0f},    // (0.2 + 0.95 + 0) / 3 = 0.383
      {0.0f, 1.0f}};
  EXPECT_EQ(detect(logic, rows, 0.25), (std::vector<std::string>{"1:yes", "3:yes", "5:yes"}));
}

TEST(DetectionLogic, SuppressionBlocksDetectionsForItsWindow) {
  // suppress 1.0 s / 0.25 s = 4 slices: a detection at k blocks k+1..k+3, k+4 may trigger.
  dkws::DetectionLogic logic({"yes", "no", "_unknown_"}, opts(0.25, 0.25, 0.5, 1.0));
  EXPECT_EQ(logic.suppress_slices(), 4);
  std::vector<std::vector<float>> rows(12, std::vector<float>{0.9f, 0.05f, 0.05f});
  rows[2] = {0.05f, 0.9f, 0.05f};  // a different keyword inside the suppression: still blocked
  rows[9] = {0.1f, 0.1f, 0.8f};    // no keyword at 9; 10 and 11 are still within 8's window
  EXPECT_EQ(detect(logic, rows, 0.25), (std::vector<std::string>{"0:yes", "4:yes", "8:yes"}));
}

TEST(DetectionLogic, PicksTheBestKeywordAndRoundsWindowsToSlices) {
  // 0.3 s suppression with 0.25 s slices covers the next slice only (ceil(1.2) = 2 slices).
  dkws::DetectionLogic logic({"_silence_", "up", "down"}, opts(0.25, 0.5, 0.3, 0.3));
  EXPECT_EQ(logic.smooth_slices(), 2);
  EXPECT_EQ(logic.suppress_slices(), 2);
  const std::vector<std::vector<float>> rows = {
      {0.2f, 0.35f, 0.45f},  // down 0.45 beats up 0.35
      {0.2f, 0.5f, 0.3f},    // means: up 0.425, down 0.375, but suppressed (1 after 0)
      {0.2f, 0.5f, 0.3f}};   // up 0.5, down 0.3: up
  EXPECT_EQ(detect(logic, rows, 0.25), (std::vector<std::string>{"0:down", "2:up"}));
}

TEST(DetectionLogic, RejectsBadOptionsAndScoreCounts) {
  EXPECT_THROW(dkws::DetectionLogic({"yes"}, opts(0, 0, 0.5, 0)), dkws::Error);
  EXPECT_THROW(dkws::DetectionLogic({"yes"}, opts(0.25, -1, 0.5, 0)), dkws::Error);
  EXPECT_THROW(dkws::DetectionLogic({"yes"}, opts(0.25, 0, 1.5, 0)), dkws::Error);
  EXPECT_THROW(dkws::DetectionLogic({"yes"}, opts(0.25, 0, 0.5, -1)), dkws::Error);
  dkws::DetectionLogic logic({"yes", "no"}, opts(0.25, 0, 0.5, 0));
  std::vector<float> one = {1.f};
  EXPECT_THROW(logic.update(one, 0.25), dkws::Error);
}

TEST(DetectionLogic, NonKeywordClasses) {
  for (const char* c :
       {"_unknown_", "_silence_", "unknown", "Noise", "silence", "_background_noise_"})
    EXPECT_FALSE(dkws::is_keyword_class(c)) << c;
  for (const char* c : {"yes", "no", "hello_world", "up"})
    EXPECT_TRUE(dkws::is_keyword_class(c)) << c;
}

}  // namespace
