// Importing datasets nobody prepared for dkws, through the real binary: manifests (CSV/TSV with a
// header, the split TSV without one, one list per split), labels and speakers from file names,
// the speaker-leakage warning, problems summarised by kind, and .npy export of the folder task.
// Every dataset is generated here as small WAV files.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "dkws/dataset.hpp"
#include "test_util.hpp"
#include "tone_wav.hpp"

namespace fs = std::filesystem;
using dkws::testing::run_cli;
using dkws::testing::TempDir;
using nlohmann::json;

namespace {

void clip(const fs::path& p, double freq, int rate = 16000) {
  dkws::testing::write_tone_wav(p, freq, rate);
}

// Two speaker names per split under the default 60/20/20 hash, so every split gets speakers.
std::vector<std::string> speakers_for_every_split() {
  std::map<std::string, std::vector<std::string>> by_split;
  for (int i = 0;
       by_split["train"].size() < 2 || by_split["val"].size() < 2 || by_split["test"].size() < 2;
       ++i) {
    const std::string name = fmt::format("spk{:02d}", i);
    auto& v = by_split[dkws::split_for_speaker(name)];
    if (v.size() < 2) v.push_back(name);
  }
  std::vector<std::string> out;
  for (const char* s : {"train", "val", "test"})
    out.insert(out.end(), by_split[s].begin(), by_split[s].end());
  return out;
}

// Whether `text` is in a command's output; a failure shows the whole output.
::testing::AssertionResult says(const std::string& output, const std::string& text) {
  if (output.find(text) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no \"" << text << "\" in:\n" << output;
}

json inspect_json(const std::string& args) {
  const auto r = run_cli("data inspect --json " + args + " 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0 ? json::parse(r.output) : json::object();
}

// Appended piecewise: GCC 12 at -O3 with -mtune=znver3 warns (-Wrestrict, a false positive)
// on "literal" + std::string&&.
std::string q(const fs::path& p) {
  std::string quoted = "\"";
  quoted += p.string();
  quoted += '"';
  return quoted;
}

// Rows of a split TSV written by `dkws data split`, header checked.
struct TsvRow {
  std::string split, label, path, speaker;
};
std::vector<TsvRow> read_split_tsv(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "split\tlabel\tpath\tspeaker");
  std::vector<TsvRow> rows;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    TsvRow r;
    std::getline(fields, r.split, '\t');
    std::getline(fields, r.label, '\t');
    std::getline(fields, r.path, '\t');
    std::getline(fields, r.speaker, '\t');
    rows.push_back(r);
  }
  return rows;
}

// `dkws features --task folder` on `data`: the .npy row counts per split, from classes.json.
json export_features(const fs::path& data, const fs::path& out) {
  const auto r =
      run_cli("features -q --task folder --data " + q(data) + " --cache '' --out " + q(out));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"train_x.npy", "train_y.npy", "val_x.npy", "val_y.npy", "test_x.npy",
                        "test_y.npy", "classes.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  std::ifstream in(out / "classes.json");
  return r.exit_code == 0 ? json::parse(in) : json::object();
}

// The flat folder of the issue: LABEL_SPEAKER_N.wav, no class folders.
struct FlatFolder {
  TempDir t;
  fs::path root = t / "flat";
  std::vector<std::string> speakers = speakers_for_every_split();
  FlatFolder() {
    int n = 0;
    for (const std::string& s : speakers)
      for (const char* label : {"up", "down"})
        for (int k = 0; k < 2; ++k)
          clip(root / fmt::format("{}_{}_{}.wav", label, s, k), 200 + 31 * n++);
  }
};

const char* const kLabelPattern = "'^(?<label>[a-z]+)_'";
const char* const kSpeakerPattern = "'^[a-z]+_(?<speaker>spk[0-9]+)_'";

}  // namespace

TEST(DataImportCli, FlatFolderNeedsALabelPatternAndSaysSo) {
  FlatFolder d;
  const auto r = run_cli("data inspect " + q(d.root));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(says(r.output, "--label-pattern"));
}

TEST(DataImportCli, FlatFolderWithLabelAndSpeakerPatterns) {
  FlatFolder d;
  const std::string patterns =
      std::string(" --label-pattern ") + kLabelPattern + " --speaker-pattern " + kSpeakerPattern;
  const json j = inspect_json(q(d.root) + patterns);
  EXPECT_EQ(j["layout"], "file_names");
  EXPECT_EQ(j["clips"], 24);
  EXPECT_EQ(j["speakers"], 6);
  EXPECT_EQ(j["split_by_clip"], 0);
  EXPECT_EQ(j["speaker_warning"], "");
  ASSERT_EQ(j["classes"].size(), 2u);
  EXPECT_EQ(j["classes"][0]["name"], "down");
  EXPECT_TRUE(j["speaker_overlap"].empty());

  // The split pins the speakers into the TSV, which the folder task then reads.
  const auto s = run_cli("data split " + q(d.root) + patterns);
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_TRUE(says(s.output, "train 8 / val 8 / test 8 clips; 2 / 2 / 2 speakers"));
  EXPECT_EQ(s.output.find("leakage"), std::string::npos) << s.output;
  std::map<std::string, std::set<std::string>> splits_of;
  for (const TsvRow& row : read_split_tsv(d.root / "splits.tsv")) {
    EXPECT_EQ(row.path.substr(0, row.label.size() + 1), row.label + "_") << row.path;
    EXPECT_EQ(row.split, dkws::split_for_speaker(row.speaker)) << row.path;
    splits_of[row.speaker].insert(row.split);
  }
  EXPECT_EQ(splits_of.size(), 6u);
  for (const auto& [speaker, splits] : splits_of) EXPECT_EQ(splits.size(), 1u) << speaker;
  const json tsv = inspect_json(q(d.root));
  EXPECT_EQ(tsv["layout"], "split_tsv");
  EXPECT_EQ(tsv["speakers"], 6) << "speakers come back from the TSV's speaker column";

  const json meta = export_features(d.root, d.t / "npy");
  EXPECT_EQ(meta["classes"], json({"down", "up"}));
  EXPECT_EQ(meta["rows"], json({8, 8, 8}));
}

// The class folders named SPEAKER_WORD_NN.wav: without a pattern nothing carries a
// speaker, and both commands must say so loudly; with one, the split is by speaker.
TEST(DataImportCli, ClassFoldersWithAnotherNamingRule) {
  TempDir t;
  const fs::path root = t / "cf";
  const auto speakers = speakers_for_every_split();
  int n = 0;
  for (const std::string& s : speakers)
    for (const char* word : {"yes", "no"})
      for (int k = 1; k <= 2; ++k)
        clip(root / word / fmt::format("{}_{}_{:02d}.wav", s, word, k), 300 + 29 * n++);

  const auto plain = run_cli("data inspect " + q(root));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_TRUE(says(plain.output, "0 speakers"));
  EXPECT_TRUE(
      says(plain.output, "WARNING: no speaker ids found: all 24 clips were split clip by clip"));
  EXPECT_TRUE(says(plain.output, "speaker leakage"));
  EXPECT_TRUE(says(plain.output, "--speaker-pattern"));
  const json pj = inspect_json(q(root));
  EXPECT_EQ(pj["split_by_clip"], 24);
  EXPECT_TRUE(says(pj["speaker_warning"], "WARNING"));

  const auto leaky = run_cli("data split " + q(root) + " -o " + q(t / "leaky.tsv"));
  ASSERT_EQ(leaky.exit_code, 0) << leaky.output;
  EXPECT_TRUE(says(leaky.output, "WARNING: no speaker ids found"));
  EXPECT_TRUE(
      says(leaky.output, "split by clip, not by speaker (no speaker ids): speaker leakage"));
  // And the leak is real: split by clip, some speaker lands in two splits.
  std::map<std::string, std::set<std::string>> leaky_splits;
  for (const TsvRow& row : read_split_tsv(t / "leaky.tsv")) {
    EXPECT_EQ(row.speaker, "");
    leaky_splits[fs::path(row.path).filename().string().substr(0, 5)].insert(row.split);
  }
  size_t straddling = 0;
  for (const auto& [speaker, splits] : leaky_splits) straddling += splits.size() > 1;
  EXPECT_GT(straddling, 0u);

  const std::string pattern = " --speaker-pattern '^(?<speaker>[^_]+)_'";
  const json sj = inspect_json(q(root) + pattern);
  EXPECT_EQ(sj["speakers"], 6);
  EXPECT_EQ(sj["split_by_clip"], 0);
  EXPECT_EQ(sj["speaker_warning"], "");
  EXPECT_TRUE(sj["speaker_overlap"].empty());
  const auto good = run_cli("data split " + q(root) + pattern + " -o " + q(t / "good.tsv"));
  ASSERT_EQ(good.exit_code, 0) << good.output;
  EXPECT_EQ(good.output.find("WARNING"), std::string::npos) << good.output;
  for (const TsvRow& row : read_split_tsv(t / "good.tsv"))
    EXPECT_EQ(row.split, dkws::split_for_speaker(row.speaker)) << row.path;

  // The folder task reads the pinned split, and dkws train trains every configured epoch.
  const auto tr = run_cli("train -q --task folder --data " + q(t / "good.tsv") +
                          " --cache '' --epochs 3 --out " + q(t / "run"));
  ASSERT_EQ(tr.exit_code, 0) << tr.output;
  std::ifstream m(t / "run" / "metrics.json");
  EXPECT_EQ(json::parse(m)["epochs"], 3);
}

// A manifest with a header naming its columns, in any order and under common names; comma or
// semicolon separated, quoted fields.
TEST(DataImportCli, CsvManifestWithHeader) {
  TempDir t;
  const auto speakers = speakers_for_every_split();
  std::string csv = "Speaker,File Name,class,Split,notes\n";
  std::string semi = "path;label\n";
  int n = 0;
  for (size_t s = 0; s < speakers.size(); ++s) {
    for (const char* label : {"on", "off"}) {
      const std::string rel = fmt::format("audio/{}, take {}.wav", label, n);
      clip(t / "ds" / rel, 250 + 23 * n);
      const char* split = s < 2 ? "training" : s < 4 ? "dev" : "test";
      csv += fmt::format("{},\"{}\",{},{},\"a \"\"quoted\"\" note\"\n", speakers[s], rel, label,
                         split);
      semi += fmt::format("\"{}\";{}\n", rel, label);
      ++n;
    }
  }
  csv += "spk99,audio/missing.wav,on,train,\n";
  csv += "spk99,audio/on, take 0.wav,on,holiday,\n";  // unquoted comma: fields shift
  dkws::testing::write_file(t / "ds/meta.csv", csv);
  dkws::testing::write_file(t / "ds/semi.csv", semi);

  const json j = inspect_json(q(t / "ds/meta.csv"));
  EXPECT_EQ(j["layout"], "manifest");
  EXPECT_EQ(j["clips"], 12);
  EXPECT_EQ(j["speakers"], 6);
  EXPECT_EQ(j["splits"], json({{"train", 4}, {"val", 4}, {"test", 4}}));
  EXPECT_EQ(j["problem_counts"], json({{"manifest", 1}, {"missing", 1}})) << j["problems"].dump();
  EXPECT_EQ(j["speaker_warning"], "");
  const json meta = export_features(t / "ds/meta.csv", t / "npy");
  EXPECT_EQ(meta["rows"], json({4, 4, 4}));
  EXPECT_EQ(meta["classes"], json({"off", "on"}));

  // No speaker and no split column: a hash split by clip, said loudly.
  const auto r = run_cli("data inspect " + q(t / "ds/semi.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(says(r.output, "(manifest layout): 12 clips, 2 classes, 0 speakers"));
  EXPECT_TRUE(
      says(r.output, "WARNING: no speaker ids found: all 12 clips were split clip by clip"));
  const json sj = inspect_json(q(t / "ds/semi.csv"));
  EXPECT_EQ(sj["split_by_clip"], 12);
}

// The split TSV with and without its header line reads the same.
TEST(DataImportCli, SplitTsvWithoutHeader) {
  TempDir t;
  std::string rows;
  int n = 0;
  for (const char* split : {"train", "train", "validation", "test"})
    for (const char* label : {"go", "stop"}) {
      const std::string rel = fmt::format("{}/{:08x}_nohash_{}.wav", label, 0xa0 + n, n);
      clip(t / rel, 220 + 41 * n++);
      rows += fmt::format("{}\t{}\t{}\n", split, label, rel);
    }
  dkws::testing::write_file(t / "headerless.tsv", rows);
  dkws::testing::write_file(t / "with_header.tsv", "split\tlabel\tpath\n" + rows);
  const json a = inspect_json(q(t / "headerless.tsv"));
  const json b = inspect_json(q(t / "with_header.tsv"));
  EXPECT_EQ(a["layout"], "split_tsv");
  EXPECT_EQ(a["clips"], 8);
  EXPECT_EQ(a["splits"], json({{"train", 4}, {"val", 2}, {"test", 2}}));
  EXPECT_EQ(a["speakers"], 8) << "speakers from <speaker>_nohash_<n> names";
  EXPECT_EQ(a["classes"], b["classes"]);
  EXPECT_EQ(a["splits"], b["splits"]);
  const json meta = export_features(t / "headerless.tsv", t / "npy");
  EXPECT_EQ(meta["rows"], json({4, 2, 2}));
}

// A dataset shipped as `file,class` lists, one per split, imports as it is.
TEST(DataImportCli, OneCsvListPerSplit) {
  TempDir t;
  const fs::path root = t / "lists";
  std::map<std::string, std::string> lists;
  int n = 0;
  for (const char* split : {"train", "validation", "test"}) {
    lists[split] = "file,class\n";
    for (int k = 0; k < (std::string(split) == "train" ? 4 : 2); ++k)
      for (const char* label : {"cat", "dog"}) {
        const std::string rel = fmt::format("wavs/{}{:03d}.wav", label, n);
        clip(root / rel, 260 + 17 * n++);
        lists[split] += fmt::format("{},{}\n", rel, label);
      }
  }
  for (const auto& [split, text] : lists) dkws::testing::write_file(root / (split + ".csv"), text);
  dkws::testing::write_file(root / "README.txt", "not a list");

  const auto r = run_cli("data inspect " + q(root));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(says(r.output, "(split_manifests layout): 16 clips, 2 classes, 0 speakers"));
  // The splits are given, so nothing was hashed by clip, but nothing can show they keep speakers
  // apart either.
  EXPECT_TRUE(says(r.output, "WARNING: no speaker ids found, so nothing shows"));
  const json j = inspect_json(q(root));
  EXPECT_EQ(j["splits"], json({{"train", 8}, {"val", 4}, {"test", 4}}));
  EXPECT_EQ(j["split_by_clip"], 0);
  const json meta = export_features(root, t / "npy");
  EXPECT_EQ(meta["rows"], json({8, 4, 4}));

  // Without a validation list, validation comes out of training (by clip here: no speakers).
  fs::remove(root / "validation.csv");
  const json k = inspect_json(q(root));
  EXPECT_EQ(k["clips"], 12);
  EXPECT_EQ(k["splits"]["test"], 4);
  EXPECT_EQ(k["splits"]["train"].get<int>() + k["splits"]["val"].get<int>(), 8);
  EXPECT_EQ(k["split_by_clip"], 8);
  EXPECT_TRUE(says(k["speaker_warning"], "8 of 12 clips have no speaker id"));
}

// 30 clips at 8 kHz are one group of problems with a count, not 30 lines; --list-problems
// lists them all.
TEST(DataImportCli, ProblemsAreSummarisedByKind) {
  TempDir t;
  const fs::path root = t / "ds";
  for (int i = 0; i < 30; ++i)
    clip(root / (i % 2 ? "a" : "b") / fmt::format("{:08x}_nohash_0.wav", 0x100 + i), 300 + 13 * i,
         8000);
  for (int i = 0; i < 5; ++i)
    dkws::testing::write_file(root / "a" / fmt::format("n{}.txt", i), "x");
  const auto r = run_cli("data inspect " + q(root));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(says(r.output, "35 problem(s): 5 not_audio, 30 sample_rate (first 3 of each kind"));
  EXPECT_TRUE(says(r.output, "[sample_rate] 30: sample rate other than 16 kHz"));
  EXPECT_TRUE(says(r.output, "... and 27 more"));
  EXPECT_TRUE(says(r.output, "[not_audio] 5:"));
  EXPECT_TRUE(says(r.output, "... and 2 more"));
  size_t lines = 0, named = 0;
  for (char c : r.output) lines += c == '\n';
  for (size_t at = 0; (at = r.output.find("_nohash_0.wav", at)) != std::string::npos; ++at) ++named;
  EXPECT_EQ(named, 3u) << r.output;
  EXPECT_LT(lines, 25u) << r.output;

  const auto all = run_cli("data inspect --list-problems " + q(root));
  ASSERT_EQ(all.exit_code, 0) << all.output;
  for (int i = 0; i < 30; ++i)
    EXPECT_TRUE(says(all.output, fmt::format("{:08x}_nohash_0.wav: 8000 Hz", 0x100 + i)));
  EXPECT_EQ(all.output.find("more"), std::string::npos) << all.output;

  const auto s = run_cli("data split " + q(root) + " -o " + q(t / "s.tsv"));
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_TRUE(says(s.output, "[sample_rate] 30:"));
  EXPECT_TRUE(says(s.output, "... and 27 more"));
}

TEST(DataImportCli, BadPatternsAndManifestsFailNamingTheCulprit) {
  FlatFolder d;
  struct Case {
    std::string args, must_name;
  };
  const Case cases[] = {
      {q(d.root) + " --label-pattern '^(?<label>[a-z+_'", "--label-pattern '^(?<label>[a-z+_'"},
      {q(d.root) + " --label-pattern '^([a-z]+)_([a-z]+)'", "(?<label>...) group"},
      {q(d.root) + " --label-pattern '^(?<word>[a-z]+)_(x)'", "--label-pattern"},
      {q(d.root) + " --speaker-pattern '(?<speaker>a)(?<speaker>b)'", "used twice"},
  };
  for (const Case& c : cases) {
    const auto r = run_cli("data inspect " + c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_TRUE(says(r.output, c.must_name)) << c.args;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line\n" << r.output;
  }
  dkws::testing::write_file(d.t / "nolabel.csv", "path,speaker\nup_spk00_0.wav,spk00\n");
  const auto r = run_cli("data inspect " + q(d.t / "nolabel.csv"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(says(r.output, "nolabel.csv: the header names no label column"));
  dkws::testing::write_file(d.t / "m.csv", "path,label\nflat/up_spk00_0.wav,up\n");
  const auto lp = run_cli("data inspect " + q(d.t / "m.csv") + " --label-pattern " + kLabelPattern);
  EXPECT_NE(lp.exit_code, 0);
  EXPECT_TRUE(says(lp.output, "--label-pattern: "));
  const auto f = run_cli("features --task folder --out " + q(d.t / "x"));
  EXPECT_NE(f.exit_code, 0);
  EXPECT_TRUE(says(f.output, "--data"));
}

TEST(DataImportCli, HelpNamesTheNewOptions) {
  for (const char* sub : {"data inspect --help", "data split --help"}) {
    const auto h = run_cli(sub);
    EXPECT_EQ(h.exit_code, 0) << h.output;
    for (const char* opt : {"--label-pattern", "--speaker-pattern", "--list-problems"})
      EXPECT_TRUE(says(h.output, opt)) << sub;
  }
  const auto f = run_cli("features --help");
  EXPECT_TRUE(says(f.output, "folder"));
}
