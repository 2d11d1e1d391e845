// `dkws data` through the real binary: inspect reports every kind of broken clip without failing,
// split writes a deterministic speaker-disjoint TSV, and bad arguments fail naming the culprit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dkws/audio.hpp"
#include "dkws/dataset.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using dkws::testing::run_cli;
using dkws::testing::TempDir;

namespace {

std::vector<float> tone(double freq, double seconds, int rate) {
  std::vector<float> s(size_t(seconds * rate));
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = float(6000 * std::sin(2 * M_PI * freq * double(i) / rate));
  return s;
}

void clip(const fs::path& p, double freq, double seconds = 1.0, int rate = 16000) {
  fs::create_directories(p.parent_path());
  dkws::write_wav(p, tone(freq, seconds, rate), rate);
}

// write_wav only writes mono, so the stereo clip is assembled by hand (16-bit PCM WAV).
void stereo_wav(const fs::path& p, int rate, size_t frames) {
  std::string d;
  auto u32 = [&](uint32_t v) { d.append(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { d.append(reinterpret_cast<const char*>(&v), 2); };
  const uint32_t bytes = uint32_t(frames * 4);
  d += "RIFF";
  u32(36 + bytes);
  d += "WAVEfmt ";
  u32(16);
  u16(1);
  u16(2);
  u32(uint32_t(rate));
  u32(uint32_t(rate * 4));
  u16(4);
  u16(16);
  d += "data";
  u32(bytes);
  for (size_t i = 0; i < frames; ++i) {
    const auto l = int16_t(5000 * std::sin(0.05 * double(i)));
    u16(uint16_t(l));
    u16(uint16_t(-l));
  }
  dkws::testing::write_file(p, d);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small dataset with one of each problem `data inspect` must name.
struct BrokenDataset {
  TempDir t;
  fs::path root = t / "ds";
  BrokenDataset() {
    const char* speakers[] = {"a1b2c3d4", "0badf00d", "12345678",
                              "cafebabe", "deadbeef", "feedface"};
    int i = 0;
    for (const char* s : speakers) {
      clip(root / "yes" / (std::string(s) + "_nohash_0.wav"), 300 + 20 * i);
      clip(root / "no" / (std::string(s) + "_nohash_0.wav"), 700 + 20 * i++);
    }
    dkws::testing::write_file(root / "yes/corrupt_nohash_0.wav", "RIFFxxxxWAVEgarbage here");
    dkws::testing::write_file(root / "yes/empty_nohash_0.wav", "");
    clip(root / "no/lowrate_nohash_0.wav", 440, 1.0, 8000);
    stereo_wav(root / "no/stereo_nohash_0.wav", 16000, 16000);
    clip(root / "no/short_nohash_0.wav", 500, 0.2);
    fs::copy_file(root / "yes/a1b2c3d4_nohash_0.wav", root / "yes/duplicate_nohash_0.wav");
    dkws::write_wav(root / "no/silent_nohash_0.wav", std::vector<float>(16000, 0.0f), 16000);
  }
};

const char* const kBrokenFiles[] = {
    "corrupt_nohash_0.wav", "empty_nohash_0.wav",     "lowrate_nohash_0.wav", "stereo_nohash_0.wav",
    "short_nohash_0.wav",   "duplicate_nohash_0.wav", "silent_nohash_0.wav"};

}  // namespace

TEST(DataCli, InspectReportsEveryProblemText) {
  BrokenDataset d;
  const auto r = run_cli("data inspect \"" + d.root.string() + "\"");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : kBrokenFiles)
    EXPECT_NE(r.output.find(f), std::string::npos) << f << "\n" << r.output;
  EXPECT_NE(r.output.find("a1b2c3d4_nohash_0.wav"), std::string::npos);  // the duplicate's twin
  for (const char* kind : {"[unreadable]", "[empty]", "[sample_rate]", "[channels]", "[short]",
                           "[duplicate]", "[silent]"}) {
    EXPECT_NE(r.output.find(kind), std::string::npos) << kind << "\n" << r.output;
  }
}

TEST(DataCli, InspectJson) {
  BrokenDataset d;
  const auto r = run_cli("data inspect --json \"" + d.root.string() + "\" 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  std::map<std::string, std::set<std::string>> kinds;  // file name -> problem kinds
  for (const auto& p : j["problems"]) {
    kinds[fs::path(p["file"].get<std::string>()).filename().string()].insert(p["kind"]);
  }
  EXPECT_TRUE(kinds["corrupt_nohash_0.wav"].count("unreadable"));
  EXPECT_TRUE(kinds["empty_nohash_0.wav"].count("empty"));
  EXPECT_TRUE(kinds["lowrate_nohash_0.wav"].count("sample_rate"));
  EXPECT_TRUE(kinds["stereo_nohash_0.wav"].count("channels"));
  EXPECT_TRUE(kinds["short_nohash_0.wav"].count("short"));
  EXPECT_TRUE(kinds["silent_nohash_0.wav"].count("silent"));
  EXPECT_FALSE(j["synthetic"].get<bool>());
  ASSERT_EQ(j["duplicates"].size(), 1u);
  EXPECT_EQ(j["duplicates"][0].size(), 2u);
  EXPECT_EQ(j["classes"].size(), 2u);
  for (const auto& c : j["classes"]) {
    if (c["name"] == "no") {
      EXPECT_EQ(c["count"], 10);
      EXPECT_EQ(c["sample_rates"], nlohmann::json({8000, 16000}));
      EXPECT_EQ(c["channels"], nlohmann::json({1, 2}));
      EXPECT_NEAR(c["seconds_min"].get<double>(), 0.2, 1e-6);
    }
  }
}

TEST(DataCli, SplitIsDeterministicAndSpeakerDisjoint) {
  BrokenDataset d;
  const fs::path a = d.t / "a.tsv", b = d.t / "b.tsv";
  const auto ra = run_cli("data split \"" + d.root.string() + "\" --out \"" + a.string() + "\"");
  ASSERT_EQ(ra.exit_code, 0) << ra.output;
  const auto rb = run_cli("data split \"" + d.root.string() + "\" --out \"" + b.string() + "\"");
  ASSERT_EQ(rb.exit_code, 0) << rb.output;
  EXPECT_EQ(slurp(a), slurp(b));
  // Split keeps what it can and names every problem it sees without decoding (silence needs a
  // decode: that is inspect's job).
  for (const char* f : kBrokenFiles) {
    if (std::string(f) == "silent_nohash_0.wav") continue;
    EXPECT_NE(ra.output.find(f), std::string::npos) << f << "\n" << ra.output;
  }
  for (const char* what : {"8000 Hz", "2 channels", "short clip", "byte-identical"})
    EXPECT_NE(ra.output.find(what), std::string::npos) << what << "\n" << ra.output;

  std::istringstream in(slurp(a));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "split\tlabel\tpath\tspeaker");
  std::map<std::string, std::set<std::string>> splits_of;
  size_t rows = 0;
  while (std::getline(in, line)) {
    const size_t x = line.find('\t'), y = line.find('\t', x + 1), z = line.find('\t', y + 1);
    const std::string split = line.substr(0, x), path = line.substr(y + 1, z - y - 1);
    EXPECT_TRUE(split == "train" || split == "val" || split == "test") << line;
    EXPECT_TRUE(fs::exists(d.t / path)) << path;  // relative to the TSV's folder
    EXPECT_EQ(path.find("corrupt"), std::string::npos);
    EXPECT_EQ(path.find("empty_"), std::string::npos);
    EXPECT_EQ(line.substr(z + 1), dkws::speaker_of(path)) << "the speaker column";
    splits_of[dkws::speaker_of(path)].insert(split);
    ++rows;
  }
  EXPECT_EQ(rows, 17u);  // 12 good + low rate, stereo, short, duplicate, silent
  for (const auto& [speaker, splits] : splits_of) EXPECT_EQ(splits.size(), 1u) << speaker;

  // The default output goes into the dataset, which then reads as the split_tsv layout.
  ASSERT_EQ(run_cli("data split \"" + d.root.string() + "\" --val 30 --test 30").exit_code, 0);
  EXPECT_TRUE(fs::exists(d.root / "splits.tsv"));
  const auto j = nlohmann::json::parse(
      run_cli("data inspect --json \"" + d.root.string() + "\" 2>/dev/null").output);
  EXPECT_EQ(j["layout"], "split_tsv");
  EXPECT_TRUE(j["speaker_overlap"].empty());
}

TEST(DataCli, InspectReportsSpeakersInTwoSplits) {
  TempDir t;
  clip(t / "ds/yes/a1b2c3d4_nohash_0.wav", 400);
  clip(t / "ds/no/a1b2c3d4_nohash_1.wav", 900);
  clip(t / "ds/no/cafebabe_nohash_0.wav", 950);
  dkws::testing::write_file(t / "ds/splits.tsv",
                            "split\tlabel\tpath\ntrain\tyes\tyes/a1b2c3d4_nohash_0.wav\n"
                            "test\tno\tno/a1b2c3d4_nohash_1.wav\n"
                            "val\tno\tno/cafebabe_nohash_0.wav\n");
  const auto r = run_cli("data inspect \"" + (t / "ds").string() + "\"");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[speaker_overlap] 1: speakers in more than one split"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("speaker a1b2c3d4 is in 2 splits"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("cafebabe is in"), std::string::npos);
}

// The three import formats through the CLI: inspect names the layout and the splits each format
// implies, and split turns any of them into a TSV that reads back the same clips.
TEST(DataCli, ImportsSpeechCommandsClassFoldersAndEdgeImpulse) {
  TempDir t;
  const char* speakers[] = {"a1b2c3d4", "0badf00d", "12345678", "cafebabe", "deadbeef"};
  nlohmann::json ei = nlohmann::json::array();
  int n = 0;
  for (const char* label : {"yes", "no"}) {
    for (const char* s : speakers) {
      const std::string name = std::string(s) + "_nohash_0.wav";
      clip(t / "sc" / label / name, 300 + 37 * n);
      clip(t / "cf" / label / name, 300 + 37 * n);
      const std::string cat = n % 5 == 4 ? "testing" : "training";
      const std::string path =
          cat + "/" + label + "." + s + "_nohash_0.wav.x" + std::to_string(n) + ".wav";
      clip(t / "ei" / path, 300 + 37 * n);
      ei.push_back({{"path", path},
                    {"name", std::string(label) + "." + s + "_nohash_0"},
                    {"category", cat},
                    {"label", {{"type", "label"}, {"label", label}}}});
      ++n;
    }
  }
  dkws::testing::write_file(t / "sc/validation_list.txt",
                            "yes/a1b2c3d4_nohash_0.wav\nno/a1b2c3d4_nohash_0.wav\n");
  dkws::testing::write_file(t / "sc/testing_list.txt",
                            "yes/0badf00d_nohash_0.wav\nno/0badf00d_nohash_0.wav\n");
  dkws::testing::write_file(t / "ei/info.labels",
                            nlohmann::json{{"version", 1}, {"files", ei}}.dump());
  auto inspect = [&](const char* dir) {
    const auto r = run_cli("data inspect --json \"" + (t / dir).string() + "\" 2>/dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return nlohmann::json::parse(r.output);
  };
  const auto sc = inspect("sc"), cf = inspect("cf"), eij = inspect("ei");
  EXPECT_EQ(sc["layout"], "speech_commands");
  EXPECT_EQ(sc["splits"]["val"], 2);
  EXPECT_EQ(sc["splits"]["test"], 2);
  EXPECT_EQ(cf["layout"], "class_folders");
  EXPECT_EQ(eij["layout"], "edge_impulse");
  EXPECT_EQ(eij["splits"]["test"], 2);  // Edge Impulse's testing category
  for (const auto* j : {&sc, &cf, &eij}) {
    EXPECT_EQ((*j)["clips"], 10);
    EXPECT_EQ((*j)["speakers"], 5);  // EI's random file suffix is not taken for a speaker
    EXPECT_EQ((*j)["classes"].size(), 2u);
    EXPECT_TRUE((*j)["problems"].empty()) << (*j)["problems"].dump();
  }
  for (const char* dir : {"sc", "cf", "ei"}) {
    const fs::path out = t / (std::string(dir) + ".tsv");
    ASSERT_EQ(
        run_cli("data split \"" + (t / dir).string() + "\" -o \"" + out.string() + "\"").exit_code,
        0);
    const auto j = nlohmann::json::parse(
        run_cli("data inspect --json \"" + out.string() + "\" 2>/dev/null").output);
    EXPECT_EQ(j["layout"], "split_tsv");
    EXPECT_EQ(j["clips"], 10) << dir;
    EXPECT_TRUE(j["speaker_overlap"].empty()) << dir;
  }
}

TEST(DataCli, ErrorsAndHelp) {
  const auto r = run_cli("data inspect /nonexistent/dkws_dataset");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("/nonexistent/dkws_dataset"), std::string::npos) << r.output;
  const auto s = run_cli("data split /nonexistent/dkws_dataset");
  EXPECT_NE(s.exit_code, 0);
  EXPECT_NE(s.output.find("/nonexistent/dkws_dataset"), std::string::npos) << s.output;
  TempDir t;
  EXPECT_NE(run_cli("data inspect \"" + t.path().string() + "\"").exit_code, 0);  // no classes
  clip(t / "ds/yes/x.wav", 440);
  EXPECT_NE(run_cli("data split \"" + (t / "ds").string() + "\" --val 70 --test 50").exit_code, 0);
  EXPECT_NE(run_cli("data split \"" + (t / "ds").string() + "\" --val 120").exit_code, 0);
  for (const char* help : {"data --help", "data inspect --help", "data split --help"}) {
    const auto h = run_cli(help);
    EXPECT_EQ(h.exit_code, 0) << help << "\n" << h.output;
    EXPECT_NE(h.output.find("Usage"), std::string::npos) << h.output;
  }
  EXPECT_NE(run_cli("data").exit_code, 0);  // a subcommand is required
}
