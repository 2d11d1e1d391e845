// Audio input tests: exact 16-bit round trip, resampling, downmix, window fitting, the errors for
// files that are missing, empty, corrupt or truncated, and the `dkws features` command around them.
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <numbers>
#include <random>

#include <nlohmann/json.hpp>

#include "dkws/audio.hpp"
#include "dkws/error.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using dkws::testing::TempDir;

namespace {

// Writes interleaved int16 frames with libsndfile in the given container/encoding.
void write_pcm(const fs::path& p, const std::vector<short>& interleaved, int rate, int channels,
               int format = SF_FORMAT_WAV | SF_FORMAT_PCM_16) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  sf_writef_short(f, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / channels));
  sf_close(f);
}

std::vector<float> random_int16(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(-32768, 32767);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(u(rng));
  return v;
}

// Expects a dkws::Error whose message names the file.
void expect_error_naming(const fs::path& p, const std::string& reason = "") {
  try {
    dkws::load_audio(p);
    ADD_FAILURE() << "load_audio(" << p << ") did not throw";
  } catch (const dkws::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p.filename().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << msg << " lacks '" << reason << "'";
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message must be one line: " << msg;
  }
}

std::string fixture_clip() {
  return (dkws::testing::shared_dir() / "fixtures" / "ei_dsp" / "4c6167ca_nohash_6.wav").string();
}

}  // namespace

TEST(Audio, Wav16kRoundTripIsExact) {
  TempDir dir;
  const auto samples = random_int16(16000, 1);
  dkws::write_wav(dir / "a.wav", samples, 16000);
  const auto info = dkws::probe_audio(dir / "a.wav");
  EXPECT_EQ(info.sample_rate, 16000);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.frames, 16000);
  EXPECT_EQ(dkws::load_audio(dir / "a.wav"), samples);
  // No temp file is left behind by the atomic write.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}), 1);
}

TEST(Audio, WriteWavClipsToInt16) {
  TempDir dir;
  dkws::write_wav(dir / "c.wav", {40000.0f, -40000.0f, 1.4f}, 16000);
  EXPECT_EQ(dkws::load_audio(dir / "c.wav", {16000, 0.0}),
            (std::vector<float>{32767.0f, -32768.0f, 1.0f}));
}

TEST(Audio, FlacIsLossless) {
  TempDir dir;
  const auto samples = random_int16(8000, 2);
  std::vector<short> pcm(samples.begin(), samples.end());
  write_pcm(dir / "a.flac", pcm, 16000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  EXPECT_EQ(dkws::load_audio(dir / "a.flac", {16000, 0.0}), samples);
}

TEST(Audio, Pcm24IsScaledToInt16Range) {
  TempDir dir;
  // 24-bit value 256*k is the 16-bit value k.
  SF_INFO info{};
  info.samplerate = 16000;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
  SNDFILE* f = sf_open((dir / "p24.wav").c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  std::vector<int> v{1000 << 16, -(1234 << 16), 0};  // sf_write_int takes 32-bit-scaled values
  sf_write_int(f, v.data(), 3);
  sf_close(f);
  EXPECT_EQ(dkws::load_audio(dir / "p24.wav", {16000, 0.0}),
            (std::vector<float>{1000.0f, -1234.0f, 0.0f}));
}

TEST(Audio, Resample8kSineTo16k) {
  TempDir dir;
  const double freq = 440, amp = 10000;
  std::vector<float> x(8000);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(std::round(amp * std::sin(2 * std::numbers::pi * freq * i / 8000.0)));
  dkws::write_wav(dir / "s8k.wav", x, 8000);
  const auto y = dkws::load_audio(dir / "s8k.wav", {16000, 0.0});
  ASSERT_EQ(y.size(), 16000u);
  // Project the middle (away from the filter's edge effects) onto sin/cos at 440 Hz: the fitted
  // amplitude and phase must be those of the original, and almost nothing may be left over.
  double a = 0, b = 0;
  const size_t lo = 2000, hi = 14000;
  for (size_t i = lo; i < hi; ++i) {
    const double w = 2 * std::numbers::pi * freq * i / 16000.0;
    a += y[i] * std::sin(w);
    b += y[i] * std::cos(w);
  }
  a *= 2.0 / (hi - lo);
  b *= 2.0 / (hi - lo);
  EXPECT_NEAR(std::hypot(a, b), amp, 0.005 * amp);
  EXPECT_NEAR(b, 0, 0.01 * amp);  // no phase shift: the converter compensates its delay
  double resid = 0;
  for (size_t i = lo; i < hi; ++i) {
    const double w = 2 * std::numbers::pi * freq * i / 16000.0;
    resid += std::pow(y[i] - (a * std::sin(w) + b * std::cos(w)), 2);
  }
  EXPECT_LT(std::sqrt(resid / (hi - lo)), 0.01 * amp);
}

TEST(Audio, ResampleKeepsLength) {
  const std::vector<float> x(44100, 1.0f);
  EXPECT_EQ(dkws::resample(x, 44100, 16000).size(), 16000u);
  EXPECT_EQ(dkws::resample(x, 16000, 16000), x);
}

TEST(Audio, StereoIsAveragedToMono) {
  TempDir dir;
  std::vector<short> pcm;
  std::vector<float> want;
  for (int i = 0; i < 1000; ++i) {
    const int v = (i * 37) % 5000 - 2500;
    pcm.push_back(static_cast<short>(2 * v));
    pcm.push_back(static_cast<short>(4 * v));
    want.push_back(static_cast<float>(3 * v));
  }
  write_pcm(dir / "st.wav", pcm, 16000, 2);
  EXPECT_EQ(dkws::probe_audio(dir / "st.wav").channels, 2);
  EXPECT_EQ(dkws::load_audio(dir / "st.wav", {16000, 0.0}), want);
}

TEST(Audio, PadsAndCropsToWindow) {
  TempDir dir;
  const auto half = random_int16(8000, 3);
  dkws::write_wav(dir / "short.wav", half, 16000);
  const auto padded = dkws::load_audio(dir / "short.wav");  // default 1 s window
  ASSERT_EQ(padded.size(), 16000u);
  EXPECT_TRUE(std::equal(half.begin(), half.end(), padded.begin()));
  EXPECT_TRUE(std::all_of(padded.begin() + 8000, padded.end(), [](float v) { return v == 0; }));

  const auto longer = random_int16(24000, 4);
  dkws::write_wav(dir / "long.wav", longer, 16000);
  const auto cropped = dkws::load_audio(dir / "long.wav");
  ASSERT_EQ(cropped.size(), 16000u);
  EXPECT_TRUE(std::equal(cropped.begin(), cropped.end(), longer.begin()));
  EXPECT_EQ(dkws::load_audio(dir / "long.wav", {16000, 0.0}).size(), 24000u);

  std::vector<float> v{1, 2, 3};
  dkws::fit_to_length(v, 5);
  EXPECT_EQ(v, (std::vector<float>{1, 2, 3, 0, 0}));
  dkws::fit_to_length(v, 2);
  EXPECT_EQ(v, (std::vector<float>{1, 2}));
}

TEST(Audio, CorruptFileIsAnError) {
  TempDir dir;
  std::mt19937 rng(5);
  std::string junk(2000, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  dkws::testing::write_file(dir / "corrupt.wav", junk);
  expect_error_naming(dir / "corrupt.wav");
}

TEST(Audio, TruncatedWavIsAnError) {
  // libsndfile quietly trusts the file length over the header's data size; we must not.
  TempDir dir;
  dkws::write_wav(dir / "full.wav", random_int16(16000, 6), 16000);
  std::ifstream in(dir / "full.wav", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  dkws::testing::write_file(dir / "cut.wav", bytes.substr(0, 20000));
  expect_error_naming(dir / "cut.wav", "truncated");
  // Header only: data chunk declared, no samples present.
  dkws::testing::write_file(dir / "header_only.wav", bytes.substr(0, 44));
  expect_error_naming(dir / "header_only.wav");
}

// A header may claim any frame count. A FLAC whose STREAMINFO says 2^36 frames made the reader
// allocate 512 GB up front (found by fuzz/fuzz_audio_reader.cpp); now it decodes what is there
// and reports the shortfall.
TEST(Audio, HeaderClaimingHugeFrameCountIsAnError) {
  TempDir dir;
  const auto frames = random_int16(320, 8);
  write_pcm(dir / "tone.flac", std::vector<short>(frames.begin(), frames.end()), 16000, 1,
            SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::ifstream in(dir / "tone.flac", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(bytes.substr(0, 4), "fLaC");
  // STREAMINFO's 64-bit word at byte 18: rate (20 bits), channels, depth, then 36 bits of total
  // frames, all set here.
  for (int i = 21; i < 26; ++i) bytes[size_t(i)] = char(i == 21 ? bytes[21] | 0x0f : 0xff);
  dkws::testing::write_file(dir / "claims_more.flac", bytes);
  EXPECT_EQ(dkws::probe_audio(dir / "claims_more.flac").frames, (1ll << 36) - 1);
  expect_error_naming(dir / "claims_more.flac", "truncated or corrupt: read 320 of");
}

TEST(Audio, EmptyAndMissingFilesAreErrors) {
  TempDir dir;
  dkws::testing::write_file(dir / "empty.wav", "");
  expect_error_naming(dir / "empty.wav", "empty");
  expect_error_naming(dir / "missing.wav", "not found");
  dkws::write_wav(dir / "zero_frames.wav", {}, 16000);
  expect_error_naming(dir / "zero_frames.wav", "empty");
  EXPECT_THROW(dkws::probe_audio(dir / "missing.wav"), dkws::Error);
}

// ---- The `dkws features` command ----------------------------------------------------------------

TEST(AudioCli, FeaturesJsonOnFixtureClip) {
  if (!fs::exists(fixture_clip())) GTEST_SKIP() << "fixture clip absent";
  const auto r = dkws::testing::run_cli("features \"" + fixture_clip() + "\" --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["shape"], nlohmann::json::array({50, 13}));
  EXPECT_EQ(j["features"].size(), 650u);

  const auto mfe = dkws::testing::run_cli("features \"" + fixture_clip() + "\" --json --block mfe");
  ASSERT_EQ(mfe.exit_code, 0) << mfe.output;
  EXPECT_EQ(nlohmann::json::parse(mfe.output)["shape"], nlohmann::json::array({99, 40}));
}

TEST(AudioCli, FeaturesWritesSvg) {
  if (!fs::exists(fixture_clip())) GTEST_SKIP() << "fixture clip absent";
  TempDir dir;
  const auto out = dir / "pic.svg";
  const auto r = dkws::testing::run_cli("features \"" + fixture_clip() +
                                        "\" --set num_cepstral=10 --out \"" + out.string() + "\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("pic.svg"), std::string::npos);
  std::ifstream in(out);
  std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("frame"), std::string::npos);
}

TEST(AudioCli, FeaturesErrors) {
  TempDir dir;
  dkws::testing::write_file(dir / "junk_input.wav", std::string(500, '\x7f'));
  auto r = dkws::testing::run_cli("features \"" + (dir / "junk_input.wav").string() + "\" --json");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("junk_input.wav"), std::string::npos) << r.output;

  r = dkws::testing::run_cli("features x.wav --set bogus=1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("bogus"), std::string::npos) << r.output;

  r = dkws::testing::run_cli("features x.wav --set fft_length=300");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("power of two"), std::string::npos) << r.output;

  r = dkws::testing::run_cli("features --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--block"), std::string::npos) << r.output;
}
