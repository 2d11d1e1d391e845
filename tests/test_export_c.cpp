// The generated C library: compiled here with -std=c99 -Wall -Wextra -Werror, it must give exactly
// the C++ int8 reference's class and scores on the whole kws12 test split; kws_feed must classify
// each streamed window exactly as kws_classify classifies the same samples; the code must also
// cross-compile for Cortex-M4F. The CLI's bad-input errors are checked at the end.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "deploy_test_util.hpp"
#include "dkws/util.hpp"

namespace {

using namespace dkws;
using namespace dkws::testing;
namespace fs = std::filesystem;

// Reads N clips of KWS_WINDOW_SAMPLES int16 from argv[1]; writes label + scores per clip to
// argv[2]. Then, for the stream check, feeds the clips back to back in slices of varying size
// and compares each kws_feed result with kws_classify on that window's samples.
const char* kHarness = R"(#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kws.h"
int main(int argc, char **argv) {
  FILE *f = argc > 2 ? fopen(argv[1], "rb") : NULL, *o = argc > 2 ? fopen(argv[2], "wb") : NULL;
  long bytes; size_t n, i, total, pos = 0, windows = 0, mismatches = 0, slice = 1;
  int16_t *pcm; kws_result_t r, got[64]; static kws_stream_t s;
  if (argc < 3 || !f || !o || kws_init() != 0) return 2;
  fseek(f, 0, SEEK_END); bytes = ftell(f); fseek(f, 0, SEEK_SET);
  total = (size_t)bytes / 2; n = total / KWS_WINDOW_SAMPLES;
  pcm = malloc((size_t)bytes);
  if (!pcm || fread(pcm, 2, total, f) != total) return 3;
  for (i = 0; i < n; ++i) {
    kws_classify(pcm + i * KWS_WINDOW_SAMPLES, KWS_WINDOW_SAMPLES, &r);
    fputc(r.label, o); fwrite(r.scores, 1, KWS_NUM_CLASSES, o);
  }
  if (n > 6) total = 6 * KWS_WINDOW_SAMPLES;
  kws_stream_init(&s);
  while (pos < total) {
    size_t len = slice < total - pos ? slice : total - pos, k, got_n;
    got_n = kws_feed(&s, pcm + pos, len, got, 64);
    pos += len;
    for (k = 0; k < got_n; ++k, ++windows) {
      size_t start = windows * KWS_HOP_FRAMES * KWS_FRAME_STRIDE;
      kws_classify(pcm + start, KWS_WINDOW_SAMPLES, &r);
      if (r.label != got[k].label || memcmp(r.scores, got[k].scores, KWS_NUM_CLASSES)) ++mismatches;
    }
    slice = slice * 7 % 5003 + 1;
  }
  printf("stream windows %zu mismatches %zu\n", windows, mismatches);
  return 0;
}
)";

struct HarnessRun {
  CommandResult run;  // its output holds the stream check's line
  size_t label_diff = 0, score_diff = 0, correct = 0, arena = 0;
};

// Exports q into dir, builds it with the harness as strict C99, classifies the clips with both the
// generated code and the C++ int8 reference, and counts differences.
HarnessRun run_harness(const deploy::QModel& q, const std::vector<std::vector<int16_t>>& clips,
                       const std::vector<int>& labels, const fs::path& dir) {
  HarnessRun h;
  h.arena = deploy::export_c(q, dir / "lib").arena_bytes;
  write_file(dir / "lib" / "harness.c", kHarness);
  const auto build = run_shell("cd '" + (dir / "lib").string() +
                               "' && cc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -o harness "
                               "*.c -lm");
  EXPECT_EQ(build.exit_code, 0) << build.output;
  std::string pcm;
  for (const auto& clip : clips) pcm.append(reinterpret_cast<const char*>(clip.data()), 32000);
  write_file(dir / "clips.bin", pcm);
  h.run = run_shell("'" + (dir / "lib" / "harness").string() + "' '" +
                    (dir / "clips.bin").string() + "' '" + (dir / "out.bin").string() + "'");
  EXPECT_EQ(h.run.exit_code, 0) << h.run.output;
  const std::string out = read_file(dir / "out.bin");
  const size_t k = q.classes.size();
  EXPECT_EQ(out.size(), clips.size() * (k + 1));
  if (out.size() != clips.size() * (k + 1)) return h;
  for (size_t i = 0; i < clips.size(); ++i) {
    const auto ref = deploy::classify_pcm(q, clips[i].data(), clips[i].size());
    const int label = deploy::argmax_scores(ref);
    h.label_diff += int(static_cast<unsigned char>(out[i * (k + 1)])) != label;
    h.score_diff += std::memcmp(out.data() + i * (k + 1) + 1, ref.data(), k) != 0;
    h.correct += label == labels[i];
  }
  return h;
}

class ExportC : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportC, GeneratedCodeEqualsTheInt8ReferenceOnTheWholeTestSplit) {
  if (!have_data()) GTEST_SKIP() << "no data at " << data_dir();
  if (!have_tool("cc")) GTEST_SKIP() << "no C compiler";
  const DeployCase c = deploy_case(GetParam(), 0);
  ASSERT_EQ(c.clips.size(), 925u);
  TempDir t;
  const HarnessRun h = run_harness(c.q, c.clips, c.labels, t.path());
  const CommandResult& run = h.run;
  EXPECT_EQ(h.label_diff, 0u);
  EXPECT_EQ(h.score_diff, 0u);
  std::printf(
      "%s: %zu test clips, generated C == C++ int8 on every class and score; int8 "
      "accuracy from PCM (C front end) %.4f; arena %zu bytes\n",
      GetParam().c_str(), c.clips.size(), double(h.correct) / double(c.clips.size()), h.arena);
  // Windows 0..(6 s - 1 s) / hop: every one equal to kws_classify on the same samples.
  EXPECT_NE(run.output.find("mismatches 0\n"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("stream windows 0 "), std::string::npos) << run.output;
  std::printf("%s", run.output.c_str());

  if (!have_tool("arm-none-eabi-gcc")) GTEST_SKIP() << "arm-none-eabi-gcc missing";
  fs::remove(t / "lib" / "harness.c");
  const auto arm = run_shell("cd '" + (t / "lib").string() +
                             "' && arm-none-eabi-gcc -std=c99 -Wall -Wextra -Werror -O2 "
                             "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -c *.c");
  EXPECT_EQ(arm.exit_code, 0) << arm.output;
}

INSTANTIATE_TEST_SUITE_P(Deploy, ExportC,
                         ::testing::Values("cc_kws12.json", "ei_kws12.json", "ds_kws12.json",
                                           "mfe_kws12.json"),
                         [](const auto& info) { return info.param.substr(0, 2); });

// 40 one-second tones of rising pitch and loudness with some noise: audio that spreads the
// features without needing the data set.
std::vector<std::vector<int16_t>> synthetic_clips() {
  std::vector<std::vector<int16_t>> clips;
  std::mt19937 gen(9);
  std::normal_distribution<float> noise(0, 1);
  for (int i = 0; i < 40; ++i) {
    std::vector<int16_t> clip(16000);
    const float amp = 50.f * float(1 + i), hz = 200.f + 60.f * float(i);
    for (size_t n = 0; n < clip.size(); ++n)
      clip[n] =
          int16_t(amp * std::sin(6.2831853f * hz * float(n) / 16000.f) + 0.2f * amp * noise(gen));
    clips.push_back(std::move(clip));
  }
  return clips;
}

void expect_c_equals_reference(const deploy::QModel& q) {
  const auto clips = synthetic_clips();
  TempDir t;
  const HarnessRun h = run_harness(q, clips, std::vector<int>(clips.size(), 0), t.path());
  EXPECT_EQ(h.label_diff, 0u);
  EXPECT_EQ(h.score_diff, 0u);
  EXPECT_NE(h.run.output.find("mismatches 0\n"), std::string::npos) << h.run.output;
}

// Two dendrites with cascade weights (the committed cc model has one): the generated kernels'
// cascade indexing against the C++ reference, on synthetic audio (no data needed).
TEST(ExportC, TwoDendritesWithCascadeMatchTheReference) {
  if (!have_tool("cc")) GTEST_SKIP() << "no C compiler";
  Rng rng(11);
  SavedModel m = dendritic_model(rng);
  const deploy::QModel q = deploy::quantize(m, random_features(300, 5));
  ASSERT_EQ(q.layers[2].dendrites, 2);
  expect_c_equals_reference(q);
}

// DS-CNN: the depthwise and average-pool kernels, and dendrites on pointwise convs.
TEST(ExportC, DsCnnWithDendritesMatchesTheReference) {
  if (!have_tool("cc")) GTEST_SKIP() << "no C compiler";
  Rng rng(21);
  SavedModel m = ds_cnn_model(rng);
  const deploy::QModel q = deploy::quantize(m, random_features(300, 5));
  ASSERT_EQ(q.layers[2].kind, deploy::QLayer::kDepthwise);
  ASSERT_EQ(q.layers[7].kind, deploy::QLayer::kAvgPool);
  expect_c_equals_reference(q);
}

// One line naming the problem, non-zero exit.
void expect_cli_error(const std::string& args, const std::string& needle) {
  const auto r = run_cli(args);
  EXPECT_NE(r.exit_code, 0) << args;
  EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(ExportCli, BadInputGetsAOneLineError) {
  TempDir t;
  const std::string out = " --out '" + (t / "out").string() + "' --quiet";
  // A corrupt model file.
  fs::create_directories(t / "corrupt");
  write_file(t / "corrupt" / "model.json", "{\"format\": \"dkws-model\", \"version\": 1, \"lay");
  expect_cli_error("export '" + (t / "corrupt").string() + "'" + out, "model.json");
  // No such run; an unknown format.
  expect_cli_error("export '" + (t / "missing").string() + "'" + out, "no such run");
  const std::string cc =
      (source_dir() / "tests" / "fixtures" / "deploy" / "cc_kws12.json").string();
  expect_cli_error("export '" + cc + "' --format tflite" + out, "unknown format 'tflite'");
  if (!have_data()) GTEST_SKIP() << "no data at " << data_dir();
  const std::string data =
      " --data '" + data_dir().string() + "' --cache '" + test_cache_dir("deploy").string() + "'";
  // The target's input rate differs from the model's front end.
  fs::copy_file(cc, t / "model.json");
  expect_cli_error("export '" + (t / "model.json").string() + "' --rate 8000" + data + out,
                   "expects 16000 Hz");
  // A layer the int8 path does not support: a ReLU straight after the input reshape.
  auto j = nlohmann::json::parse(read_file(cc));
  j["layers"].insert(j["layers"].begin() + 1, nlohmann::json{{"kind", "relu"}});
  for (auto& p : j["params"]) p["layer"] = p["layer"].get<int>() + 1;  // every weighted layer moved
  fs::create_directories(t / "relu");
  write_file(t / "relu" / "model.json", j.dump());
  expect_cli_error("export '" + (t / "relu").string() + "'" + data + out, "layer 1 (relu)");
  // And the good path prints the arena size.
  const auto ok = run_cli("export '" + (t / "model.json").string() + "'" + data + out);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("arena "), std::string::npos) << ok.output;
  EXPECT_TRUE(fs::exists(t / "out" / "kws.h"));
}

}  // namespace
