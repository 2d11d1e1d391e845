// ONNX export: the exported graph, run by an independent runtime (onnxruntime from the npm
// registry under Node.js, tools/onnx-check), gives the C++ float model's logits and scores within
// 1e-4 on 50 real kws12 test clips: a trained cc model with 2 dendrites, the trained EI Conv1D
// baseline, a trained cc AudioClassifier (Conv2D) with dendrites on every layer, and built
// AudioClassifiers with dendrites on every layer for each activation.
// Also: the ONNX checker passes, the metadata is there, and bad input gets a one-line error.
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dkws/audio.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/layers.hpp"
#include "dkws/onnx_export.hpp"
#include "dkws/util.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using dkws::testing::TempDir;

constexpr size_t kClips = 50;
constexpr double kTolerance = 1e-4;

const char* const kClasses[] = {"yes", "no",  "up",   "down", "left",      "right",
                                "on",  "off", "stop", "go",   "_silence_", "_unknown_"};

fs::path fixture(const std::string& name) {
  return dkws::testing::source_dir() / "tests" / "fixtures" / "onnx" / name;
}

// Features of kClips test clips spread over the split (every k-th test row of splits.tsv), as
// the model's front end computes them: [clip][frame][coeff].
std::vector<float> test_clip_features(const dkws::FrontEndConfig& fe) {
  const fs::path root = dkws::testing::data_dir() / "speech_commands_v2_test";
  std::ifstream tsv(root / "splits.tsv");
  std::vector<fs::path> test;
  std::string line;
  while (std::getline(tsv, line)) {
    std::istringstream row(line);
    std::string split, label, path;
    std::getline(row, split, '\t');
    std::getline(row, label, '\t');
    std::getline(row, path);
    if (split == "test") test.push_back(root / path);
  }
  EXPECT_GE(test.size(), kClips);
  std::vector<float> x;
  for (size_t i = 0; i < kClips && !test.empty(); ++i) {
    const auto audio =
        dkws::load_audio(test[i * test.size() / kClips], {fe.sample_rate, fe.window_seconds});
    const dkws::FeatureMatrix m = dkws::compute_features(audio, fe);
    x.insert(x.end(), m.data.begin(), m.data.end());
  }
  return x;
}

std::vector<float> read_f32(const fs::path& p) {
  const std::string bytes = dkws::read_file(p);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

struct Runtime {
  std::vector<float> logits, scores;
  std::string info;  // the runner's JSON line: runtime name and version
};

// Installs onnxruntime (once; tools/onnx-check/install.sh) and runs the model on x. Returns false
// with `skip` set when node/npm are absent.
bool run_onnxruntime(const fs::path& model, const std::vector<float>& x, int frames, int coeffs,
                     const fs::path& dir, Runtime& out, std::string& skip) {
  const fs::path tool = dkws::testing::source_dir() / "tools" / "onnx-check";
  const auto install = dkws::testing::run_shell("bash \"" + (tool / "install.sh").string() + "\"");
  if (install.exit_code == 3) {
    skip =
        "node or npm not found on PATH: the onnxruntime parity check did not run (the export "
        "and the ONNX checker did)";
    return false;
  }
  EXPECT_EQ(install.exit_code, 0) << install.output;
  const fs::path input = dir / "input.f32";
  dkws::write_file_atomic(
      input, std::string_view(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float)));
  const size_t n = x.size() / size_t(frames * coeffs);
  const auto r = dkws::testing::run_shell(
      fmt::format("node \"{}\" \"{}\" \"{}\" {},{},{} \"{}\"", (tool / "run.js").string(),
                  model.string(), input.string(), n, frames, coeffs, (dir / "ort").string()));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  out.info = r.output.substr(0, r.output.find('\n'));
  out.logits = read_f32(dir / "ort.logits.f32");
  out.scores = read_f32(dir / "ort.scores.f32");
  return true;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

std::vector<float> softmax_rows(const std::vector<float>& logits, int classes) {
  std::vector<float> s(logits.size());
  for (size_t r = 0; r < logits.size() / size_t(classes); ++r) {
    const float* l = logits.data() + r * classes;
    const float top = *std::max_element(l, l + classes);
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(double(l[c] - top));
    for (int c = 0; c < classes; ++c)
      s[r * classes + c] = float(std::exp(double(l[c] - top)) / sum);
  }
  return s;
}

// Exports `model`, checks it, runs 50 real clips through the C++ net and onnxruntime, and
// compares. Prints the measured differences (quoted in docs/results/onnx.md).
void expect_parity(dkws::SavedModel& model, const std::string& label) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "no data at " << dkws::testing::data_dir();
  TempDir tmp;
  const fs::path onnx = tmp / "model.onnx";
  const auto info = dkws::deploy::export_onnx(model, onnx);
  EXPECT_NO_THROW(dkws::deploy::check_onnx(onnx));
  EXPECT_EQ(info.weights, model.net.count_params()) << "every live parameter, nothing else";

  const dkws::FrontEndConfig& fe = model.config.front_end;
  const int frames = fe.frames(), coeffs = fe.coeffs(), classes = int(model.classes.size());
  const std::vector<float> x = test_clip_features(fe);
  ASSERT_EQ(x.size(), kClips * size_t(frames * coeffs));
  dkws::nn::Tensor batch({int(kClips), frames * coeffs});
  batch.data = x;
  const dkws::nn::Tensor& y = model.net.forward(batch, {});
  const std::vector<float> logits = y.data;
  const std::vector<float> scores = softmax_rows(logits, classes);

  Runtime ort;
  std::string skip;
  if (!run_onnxruntime(onnx, x, frames, coeffs, tmp.path(), ort, skip)) GTEST_SKIP() << skip;
  const double dl = max_abs_diff(logits, ort.logits), ds = max_abs_diff(scores, ort.scores);
  double largest = 0;
  for (float v : logits) largest = std::max(largest, std::fabs(double(v)));
  std::printf(
      "[onnx parity] %s: %zu clips, %zu params, %zu nodes, max|logit| %.3g, "
      "max|dlogit| %.3g, max|dscore| %.3g, %s\n",
      label.c_str(), kClips, info.weights, info.nodes, largest, dl, ds, ort.info.c_str());
  EXPECT_LT(dl, kTolerance) << label;
  EXPECT_LT(ds, kTolerance) << label;
  std::vector<int> want, got;
  dkws::nn::argmax_rows(y, want);
  dkws::nn::Tensor t({int(kClips), classes});
  t.data = ort.logits;
  dkws::nn::argmax_rows(t, got);
  EXPECT_EQ(want, got) << label;
}

// The model of `spec` with 2 dendrites per neuron on every layer dendrites can wrap, and every
// weight (f, g_k, v_k, u_kj, biases) perturbed so no term is zero and all of them show.
dkws::SavedModel with_dendrites_everywhere(const dkws::ModelSpec& spec,
                                           const std::string& activation) {
  dkws::SavedModel m;
  m.config.model = spec;
  m.config.dendrites.mode = "gd";
  m.config.dendrites.layers = "all";
  m.config.dendrites.activation = activation;
  m.classes.assign(std::begin(kClasses), std::end(kClasses));
  dkws::Rng rng(7);
  m.net = dkws::build_model(m.config.model, m.config.front_end.frames(),
                            m.config.front_end.coeffs(), 12, rng);
  dkws::dendrite::wrap_layers(m.net, m.config.dendrites);
  for (int d = 0; d < 2; ++d) dkws::dendrite::add_gd_dendrites(m.net, m.config.dendrites, rng);
  for (dkws::nn::Param* p : m.net.params())
    for (float& v : p->value.data) v += float(0.2 * rng.normal());
  return m;
}

// An AudioClassifier (Conv2D and Dense) with dendrites on every layer.
dkws::SavedModel audio_classifier(const std::string& activation, bool pool_same, int num_conv) {
  dkws::ModelSpec spec;
  spec.family = "audio_classifier";
  spec.num_conv = num_conv;
  spec.num_linear = 2;
  spec.width = 0.5;
  spec.noise = 0.1;
  spec.pool_same = pool_same;
  return with_dendrites_everywhere(spec, activation);
}

TEST(ExportOnnx, TrainedCcModelWithTwoDendritesMatchesOnnxRuntime) {
  dkws::SavedModel m = dkws::load_model(fixture("kws12_cc_d2.model.json"));
  ASSERT_EQ(m.config.dendrites.mode, "cc");
  ASSERT_EQ(dkws::dendrite::dendrite_count(m.net), 2);
  expect_parity(m, "kws12 ei_conv1d cc, 2 dendrites (trained)");
}

TEST(ExportOnnx, TrainedEiConv1dBaselineMatchesOnnxRuntime) {
  dkws::SavedModel m = dkws::load_model(fixture("kws12_baseline.model.json"));
  ASSERT_EQ(dkws::dendrite::dendrite_count(m.net), 0);
  expect_parity(m, "kws12 ei_conv1d baseline (trained)");
}

TEST(ExportOnnx, TrainedAudioClassifierWithDendritesOnAllLayersMatchesOnnxRuntime) {
  dkws::SavedModel m = dkws::load_model(fixture("kws12_audio_classifier_cc_d2.model.json"));
  ASSERT_EQ(m.config.model.family, "audio_classifier");
  ASSERT_EQ(m.config.dendrites.layers, "all");
  ASSERT_EQ(dkws::dendrite::dendrite_count(m.net), 2);
  expect_parity(m, "kws12 audio_classifier cc, 2 dendrites on 2 Conv2D + 2 Dense (trained)");
}

TEST(ExportOnnx, AudioClassifierTanhDendritesEverywhereMatchesOnnxRuntime) {
  dkws::SavedModel m = audio_classifier("tanh", true, 2);
  expect_parity(m, "audio_classifier conv2d x2 + dense x2, tanh dendrites on all, pool same");
}

TEST(ExportOnnx, AudioClassifierSigmoidDendritesEverywhereMatchesOnnxRuntime) {
  dkws::SavedModel m = audio_classifier("sigmoid", false, 3);
  expect_parity(m, "audio_classifier conv2d x3 + dense x2, sigmoid dendrites on all, pool floor");
}

TEST(ExportOnnx, AudioClassifierReluDendritesEverywhereMatchesOnnxRuntime) {
  dkws::SavedModel m = audio_classifier("relu", true, 1);
  expect_parity(m, "audio_classifier conv2d x1 + dense x2, relu dendrites on all, pool same");
}

// DS-CNN: the depthwise conv1d as a grouped Conv and the global average pool as ReduceMean, with
// dendrites on the first conv, the pointwise convs and the dense layer (the trained deploy
// fixture has one per neuron; the random one two, on three blocks).
TEST(ExportOnnx, TrainedDsCnnWithDendritesMatchesOnnxRuntime) {
  dkws::SavedModel m =
      dkws::load_model(dkws::testing::source_dir() / "tests/fixtures/deploy/ds_kws12.json");
  ASSERT_EQ(m.config.model.family, "ds_cnn");
  ASSERT_EQ(dkws::dendrite::dendrite_count(m.net), 1);
  expect_parity(m, "kws12 ds_cnn cc, 1 dendrite on conv1d, pointwise and dense (trained)");
}

TEST(ExportOnnx, DsCnnTanhDendritesEverywhereMatchesOnnxRuntime) {
  dkws::ModelSpec spec;
  spec.family = "ds_cnn";
  spec.num_conv = 3;
  spec.width = 0.75;
  dkws::SavedModel m = with_dendrites_everywhere(spec, "tanh");
  expect_parity(m, "ds_cnn 3 blocks, tanh dendrites on conv1d, pointwise and dense");
}

// ei_conv1d scaled to 4 blocks at half width: the same layer kinds in a longer stack.
TEST(ExportOnnx, ScaledEiConv1dMatchesOnnxRuntime) {
  dkws::ModelSpec spec;
  spec.num_conv = 4;
  spec.width = 0.5;
  dkws::SavedModel m = with_dendrites_everywhere(spec, "sigmoid");
  expect_parity(m, "ei_conv1d 4 blocks width 0.5, sigmoid dendrites on all");
}

TEST(ExportOnnx, PassesTheCheckerAndRecordsFrontEndAndClasses) {
  TempDir tmp;
  dkws::SavedModel m = audio_classifier("tanh", true, 2);
  const fs::path onnx = tmp / "m.onnx";
  const auto info = dkws::deploy::export_onnx(m, onnx);
  EXPECT_NO_THROW(dkws::deploy::check_onnx(onnx));
  EXPECT_EQ(info.frames, 50);
  EXPECT_EQ(info.coeffs, 13);
  EXPECT_EQ(info.classes, 12);
  EXPECT_EQ(info.bytes, fs::file_size(onnx));
  const std::string bytes = dkws::read_file(onnx);
  for (const std::string& s :
       {std::string("dkws.front_end"), std::string("num_cepstral"), std::string("dkws.classes"),
        std::string("_unknown_"), std::string("[batch, 50, 13]"), std::string("logits"),
        std::string("scores"), std::string("features")})
    EXPECT_NE(bytes.find(s), std::string::npos) << s;
  for (const auto& e : fs::directory_iterator(tmp.path()))
    EXPECT_EQ(e.path().filename(), "m.onnx") << "no temp file left behind";
}

TEST(ExportOnnx, CheckRejectsAFileThatIsNotOnnx) {
  TempDir tmp;
  dkws::SavedModel m = audio_classifier("tanh", true, 1);
  const fs::path onnx = tmp / "cut.onnx";
  dkws::deploy::export_onnx(m, onnx);
  const std::string bytes = dkws::read_file(onnx);
  dkws::testing::write_file(onnx, bytes.substr(0, bytes.size() / 2));
  try {
    dkws::deploy::check_onnx(onnx);
    FAIL() << "a truncated model passed the check";
  } catch (const dkws::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.onnx"), std::string::npos) << e.what();
  }
}

// A layer kind the exporter does not know.
class Mystery final : public dkws::nn::Layer {
 public:
  std::string kind() const override { return "mystery"; }
  dkws::nn::Shape output_shape(const dkws::nn::Shape& in) const override { return in; }
  void forward(const dkws::nn::Tensor& x, dkws::nn::Tensor& y,
               const dkws::nn::ForwardContext&) override {
    y = x;
  }
  void backward(const dkws::nn::Tensor&, const dkws::nn::Tensor&, const dkws::nn::Tensor& dy,
                dkws::nn::Tensor* dx) override {
    if (dx) *dx = dy;
  }
  nlohmann::json config() const override { return {{"kind", "mystery"}}; }
};

TEST(ExportOnnx, UnsupportedLayerIsAOneLineErrorAndWritesNothing) {
  TempDir tmp;
  dkws::SavedModel m;
  m.classes.assign(std::begin(kClasses), std::end(kClasses));
  m.net.add(dkws::nn::make_dense(650, 16));
  m.net.add(std::make_unique<Mystery>());
  m.net.add(dkws::nn::make_dense(16, 12));
  try {
    dkws::deploy::export_onnx(m, tmp / "m.onnx");
    FAIL() << "exported a model with an unsupported layer";
  } catch (const dkws::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("layer 1 has kind 'mystery'"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(ExportOnnx, OutputThatDoesNotMatchTheClassesIsAnError) {
  TempDir tmp;
  dkws::SavedModel m;
  m.classes = {"a", "b", "c"};
  m.net.add(dkws::nn::make_dense(650, 4));
  EXPECT_THROW(dkws::deploy::export_onnx(m, tmp / "m.onnx"), dkws::Error);
  m.net = {};
  m.net.add(dkws::nn::make_dense(600, 3));  // not the front end's 50 x 13
  EXPECT_THROW(dkws::deploy::export_onnx(m, tmp / "m.onnx"), dkws::Error);
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

}  // namespace
