// The Listener and `dkws listen` end to end with a real trained model whose behaviour is known: a
// tiny Conv1D trained in the test (a few seconds) to tell a low tone, a high tone and noise apart.
// Tones inserted into a long noise stream at known times must be found, with the right class, and
// nothing else; stdin PCM must give the same output as the file; bad inputs give one-line errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dkws/audio.hpp"
#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/models.hpp"
#include "dkws/rng.hpp"
#include "dkws/stream.hpp"
#include "dkws/train.hpp"
#include "dkws/util.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
constexpr int kRate = 16000;
const std::vector<std::string> kClasses = {"low", "high", "noise"};
constexpr double kToneHz[2] = {600, 2400};

// Adds a 0.35 s tone burst (raised-cosine edges) of class c at sample `at`.
void add_tone(std::vector<float>& x, size_t at, int c, double amplitude) {
  const int n = int(0.35 * kRate);
  for (int i = 0; i < n && at + size_t(i) < x.size(); ++i) {
    const double env = std::sin(M_PI * i / n);
    x[at + size_t(i)] += float(amplitude * env * std::sin(2 * M_PI * kToneHz[c] * i / kRate));
  }
}

std::vector<float> noise(size_t n, dkws::Rng& rng, double sd = 300) {
  std::vector<float> x(n);
  for (auto& v : x) v = float(std::round(sd * rng.normal()));
  return x;
}

dkws::FeatureSet make_set(int per_class, uint64_t seed, const dkws::FrontEndConfig& fe) {
  dkws::Rng rng(seed);
  dkws::FeatureSet s;
  for (int i = 0; i < per_class * 3; ++i) {
    const int c = i % 3;
    auto x = noise(kRate, rng, rng.uniform(150, 600));
    // Tones anywhere inside the clip, at varied levels, as a sliding window will see them.
    if (c < 2) add_tone(x, size_t(rng.uniform(0.05, 0.6) * kRate), c, rng.uniform(1500, 6000));
    const dkws::FeatureMatrix m = dkws::compute_features(x, fe);
    s.frames = m.frames;
    s.coeffs = m.coeffs;
    s.x.insert(s.x.end(), m.data.begin(), m.data.end());
    s.y.push_back(c);
  }
  return s;
}

// Trained once for the whole binary (a few seconds).
dkws::SavedModel& tone_model() {
  static dkws::SavedModel* model = [] {
    auto* m = new dkws::SavedModel;
    m->config = dkws::parse_run_config(nlohmann::json::parse(R"({
        "task": "kws12", "model": {"family": "ei_conv1d", "dropout": 0.1},
        "train": {"epochs": 12, "batch_size": 32, "lr": 0.005, "seed": 7},
        "dendrites": {"mode": "none", "n_epochs_to_switch": 1000}})"),
                                       "tone test");
    dkws::TaskData data;
    data.name = "tones";
    data.classes = kClasses;
    data.train = make_set(80, 1, m->config.front_end);
    data.val = make_set(20, 2, m->config.front_end);
    data.test = make_set(20, 3, m->config.front_end);
    m->classes = kClasses;
    dkws::Rng init(7);
    m->net = dkws::build_model(m->config.model, data.train.frames, data.train.coeffs, 3, init);
    dkws::TrainOptions opt;
    opt.quiet = true;
    const auto r = dkws::train_model(m->net, m->config, data, opt);
    EXPECT_GT(r.test_acc, 0.95) << "the tone model should separate its classes";
    return m;
  }();
  return *model;
}

struct Event {
  double seconds;
  int cls;
};

// 20 s of noise with tones at known times.
std::vector<float> tone_stream(const std::vector<Event>& events, uint64_t seed) {
  dkws::Rng rng(seed);
  auto x = noise(size_t(20 * kRate), rng);
  for (const auto& e : events) add_tone(x, size_t(e.seconds * kRate), e.cls, 4000);
  for (auto& v : x) v = std::round(v);  // int16 values, so WAV and raw PCM hold the same samples
  return x;
}

const std::vector<Event> kEvents = {{2.1, 0}, {6.3, 1}, {9.8, 0}, {14.05, 1}, {17.5, 1}};

TEST(Listener, FindsEachToneOnceWithItsClass) {
  dkws::DetectorOptions opt;  // 250 ms slices, 750 ms smoothing, threshold 0.7, 1 s suppression
  dkws::Listener l(tone_model(), opt);
  const auto x = tone_stream(kEvents, 11);
  std::vector<dkws::Detection> found;
  // Odd-sized chunks: slices are assembled across feed calls.
  for (size_t i = 0; i < x.size(); i += 1234)
    l.feed(std::span<const float>(x).subspan(i, std::min<size_t>(1234, x.size() - i)), found);
  l.finish(found);
  EXPECT_EQ(l.windows(), 77);  // 80 slices, classified from the first full window (t = 1 s)
  ASSERT_EQ(found.size(), kEvents.size());
  for (size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].label, kClasses[size_t(kEvents[i].cls)]) << i;
    // The window ending at t covers [t - 1, t]: the tone (0.35 s) must be inside it, and smoothing
    // delays the decision by at most the smoothing window.
    EXPECT_GE(found[i].time, kEvents[i].seconds + 0.25) << i;
    EXPECT_LE(found[i].time, kEvents[i].seconds + 1.0 + 0.75) << i;
    EXPECT_GE(found[i].score, 0.7);
  }
}

TEST(Listener, ClassifiesFromTheFirstFullWindow) {
  dkws::Listener l(tone_model(), {});
  const auto x = tone_stream({{0.05, 1}}, 13);  // a tone right at the start
  std::vector<dkws::Detection> found;
  l.feed(std::span<const float>(x).first(3 * 4000), found);
  EXPECT_EQ(l.windows(), 0) << "windows that still hold the zeros before the stream";
  l.feed(std::span<const float>(x).subspan(3 * 4000), found);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, "high");
  EXPECT_GE(found[0].time, 1.0);
}

TEST(Listener, NoiseAloneGivesNoDetection) {
  dkws::Listener l(tone_model(), {});
  const auto x = tone_stream({}, 12);
  std::vector<dkws::Detection> found;
  l.feed(x, found);
  l.finish(found);
  EXPECT_TRUE(found.empty()) << found.size() << " detections, first " << found[0].label;
}

TEST(Listener, RejectsASliceThatIsNotWholeSamples) {
  dkws::DetectorOptions opt;
  opt.slice_seconds = 0.00001;  // 0.16 samples
  EXPECT_THROW(dkws::Listener(tone_model(), opt), dkws::Error);
}

// ---- the CLI ----

struct CliFixture : ::testing::Test {
  dkws::testing::TempDir tmp;
  fs::path model = tmp / "model.json";
  fs::path wav = tmp / "stream.wav";
  fs::path raw = tmp / "stream.raw";
  void SetUp() override {
    dkws::save_model(model, tone_model());
    const auto x = tone_stream(kEvents, 11);
    dkws::write_wav(wav, x, kRate);
    std::ofstream out(raw, std::ios::binary);
    for (float v : x) {
      const auto s = static_cast<int16_t>(v);
      const unsigned char b[2] = {static_cast<unsigned char>(s & 0xff),
                                  static_cast<unsigned char>((s >> 8) & 0xff)};
      out.write(reinterpret_cast<const char*>(b), 2);
    }
  }
  std::string listen(const std::string& args) { return "listen " + model.string() + " " + args; }
};

TEST_F(CliFixture, PrintsOneLinePerDetection) {
  auto r = dkws::testing::run_cli(listen(wav.string() + " -q"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  size_t n = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(n, kEvents.size()) << r.output;
    EXPECT_EQ(line.rfind("t=", 0), 0u) << line;
    EXPECT_NE(line.find("  " + kClasses[size_t(kEvents[n].cls)] + "  "), std::string::npos) << line;
    ++n;
  }
  EXPECT_EQ(n, kEvents.size()) << r.output;
}

TEST_F(CliFixture, StdinPcmEqualsTheFileAndJsonLinesParse) {
  auto file = dkws::testing::run_cli(listen(wav.string() + " --jsonl -q"));
  auto pipe = dkws::testing::run_cli(listen("- --jsonl -q < " + raw.string()));
  ASSERT_EQ(file.exit_code, 0) << file.output;
  ASSERT_EQ(pipe.exit_code, 0) << pipe.output;
  EXPECT_EQ(file.output, pipe.output);
  std::istringstream lines(file.output);
  std::string line;
  size_t n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["label"], kClasses[size_t(kEvents[n].cls)]);
    EXPECT_GE(j["time"].get<double>(), kEvents[n].seconds);
    ++n;
  }
  EXPECT_EQ(n, kEvents.size());
}

TEST_F(CliFixture, AFileAtAnotherRateIsResampled) {
  // 44.1 kHz keeps the whole band, so the 16 kHz stream listen resamples to is nearly the original.
  const fs::path wav44 = tmp / "stream44k.wav";
  dkws::write_wav(wav44, dkws::resample(tone_stream(kEvents, 11), kRate, 44100), 44100);
  auto r = dkws::testing::run_cli(listen(wav44.string() + " --jsonl -q"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  size_t n = 0;
  for (; std::getline(lines, line); ++n) {
    ASSERT_LT(n, kEvents.size()) << r.output;
    EXPECT_EQ(nlohmann::json::parse(line)["label"], kClasses[size_t(kEvents[n].cls)]);
  }
  EXPECT_EQ(n, kEvents.size()) << r.output;
}

TEST_F(CliFixture, ThresholdAndSuppressionOptionsAct) {
  // Threshold 1 can never be reached by a mean of softmax scores below 1 here.
  auto none = dkws::testing::run_cli(listen(wav.string() + " -q --threshold 1"));
  EXPECT_EQ(none.exit_code, 0) << none.output;
  EXPECT_TRUE(none.output.empty()) << none.output;
  // No smoothing or suppression: each tone triggers on several consecutive windows.
  auto many = dkws::testing::run_cli(
      listen(wav.string() + " -q --smooth-ms 0 --suppress-ms 0 --threshold 0.5"));
  EXPECT_EQ(many.exit_code, 0) << many.output;
  EXPECT_GT(std::count(many.output.begin(), many.output.end(), '\n'), long(kEvents.size()));
}

TEST_F(CliFixture, ScoresCsvHasOneRowPerWindow) {
  auto r =
      dkws::testing::run_cli(listen(wav.string() + " -q --scores " + (tmp / "s.csv").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(tmp / "s.csv");
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "time,low,high,noise");
  int rows = 0;
  for (std::string l; std::getline(in, l);) ++rows;
  EXPECT_EQ(rows, 77);
}

// One line on stderr, naming the culprit, non-zero exit.
void expect_one_line_error(const dkws::testing::CommandResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << r.output;
}

TEST_F(CliFixture, BadInputsGiveOneLineErrors) {
  const fs::path corrupt = tmp / "corrupt.json";
  dkws::testing::write_file(corrupt, "{\"format\": \"dkws-model\", \"version\": 1, \"lay");
  expect_one_line_error(dkws::testing::run_cli("listen " + corrupt.string() + " " + wav.string()),
                        "corrupt.json");
  const fs::path bad_audio = tmp / "bad.wav";
  dkws::testing::write_file(bad_audio, "RIFF....WAVEjunkjunk");
  expect_one_line_error(dkws::testing::run_cli(listen(bad_audio.string())), "bad.wav");
  expect_one_line_error(dkws::testing::run_cli(listen((tmp / "missing.wav").string())),
                        "missing.wav");
  expect_one_line_error(dkws::testing::run_cli(listen("- --rate 8000 < " + raw.string())),
                        "8000 Hz");
  dkws::testing::write_file(tmp / "odd.raw", "abc");
  expect_one_line_error(dkws::testing::run_cli(listen("- < " + (tmp / "odd.raw").string())),
                        "odd number of bytes");
  expect_one_line_error(dkws::testing::run_cli(listen(wav.string() + " --threshold 2")),
                        "--threshold");
  expect_one_line_error(dkws::testing::run_cli(listen(wav.string() + " --slice-ms 0.01")),
                        "--slice-ms");
}

TEST_F(CliFixture, ModelAtAnotherRateRejectsRawPcm) {
  // The same network with its front end declared at 8 kHz: raw 16 kHz PCM must not be fed to it.
  auto j = nlohmann::json::parse(dkws::read_file(model));
  j["config"]["front_end"]["sample_rate"] = 8000;
  j["config"]["front_end"]["params"]["fft_length"] = 128;
  j["config"]["front_end"]["params"]["num_filters"] = 20;
  const fs::path m8 = tmp / "model8k.json";
  dkws::testing::write_file(m8, j.dump());
  expect_one_line_error(dkws::testing::run_cli("listen " + m8.string() + " - < " + raw.string()),
                        "expects 8000 Hz");
}

TEST_F(CliFixture, ModelWhoseNetworkDoesNotFitItsFrontEnd) {
  auto j = nlohmann::json::parse(dkws::read_file(model));
  j["config"]["front_end"]["params"]["num_cepstral"] = 12;  // 600 features for a 650-input net
  const fs::path bad = tmp / "mismatch.json";
  dkws::testing::write_file(bad, j.dump());
  expect_one_line_error(dkws::testing::run_cli("listen " + bad.string() + " " + wav.string()),
                        "mismatch.json: the network does not take");
}

TEST(ListenCli, Help) {
  auto r = dkws::testing::run_cli("listen --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--slice-ms", "--smooth-ms", "--threshold", "--suppress-ms", "--jsonl"})
    EXPECT_NE(r.output.find(opt), std::string::npos) << opt;
}

}  // namespace
