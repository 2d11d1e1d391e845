// `dkws data synth` and `dkws eval` through the real binary: a synthetic dataset is a speaker-aware
// class-folder dataset with a manifest, identical for the same seed, trainable with `dkws train`;
// a missing tool and bad options fail naming the culprit; eval maps classes by name.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "dkws/dataset.hpp"
#include "dkws/util.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using dkws::testing::run_cli;
using dkws::testing::TempDir;

namespace {

bool have_tools() {
  for (const std::string tool : {"espeak-ng", "flite", "sox"})
    if (std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) != 0) return false;
  return true;
}

std::map<std::string, std::string> files_of(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file())
      out[e.path().lexically_relative(root).string()] = dkws::read_file(e.path());
  return out;
}

std::string q(const fs::path& p) {
  std::string s = "\"";  // built up, not "\"" + ... + "\"", which trips GCC 12's -Wrestrict
  s += p.string();
  s += '"';
  return s;
}

// run_cli with PATH replaced for the dkws process only.
dkws::testing::CommandResult run_with_path(const fs::path& path, const std::string& args) {
  return dkws::testing::run_shell("PATH=" + q(path) + " \"" + DKWS_CLI_PATH + "\" " + args);
}

}  // namespace

TEST(SynthCli, DatasetIsSpeakerAwareAndRepeatsBySeed) {
  if (!have_tools()) GTEST_SKIP() << "espeak-ng, flite or sox not installed";
  TempDir t;
  const std::string opts = " --keywords yes,'hello world' --per-class 24 --snr-db 10,20 -q";
  const auto r = run_cli("data synth --out " + q(t / "a") + opts + " --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("SYNTHETIC"), std::string::npos) << r.output;
  ASSERT_EQ(run_cli("data synth --out " + q(t / "b") + opts + " --seed 3").exit_code, 0);
  ASSERT_EQ(run_cli("data synth --out " + q(t / "c") + opts + " --seed 4").exit_code, 0);
  const auto a = files_of(t / "a"), b = files_of(t / "b"), c = files_of(t / "c");
  EXPECT_EQ(a.size(), 4u * 24 + 1);  // four classes and the manifest
  EXPECT_TRUE(a == b) << "same seed, different files";
  size_t differ = 0;
  for (const auto& [name, bytes] : a) differ += !c.count(name) || c.at(name) != bytes;
  EXPECT_GT(differ, 50u) << "another seed should change most files";

  const auto m = nlohmann::json::parse(a.at("synth_manifest.json"));
  EXPECT_TRUE(m["synthetic"].get<bool>());
  EXPECT_EQ(m["seed"], 3);
  EXPECT_FALSE(m["generators"]["espeak-ng"].get<std::string>().empty());
  EXPECT_FALSE(m["generators"]["sox"].get<std::string>().empty());
  EXPECT_GT(m["speakers_used"].get<int>(), 20);
  EXPECT_EQ(m["clips"].size(), 96u);

  // The folder reads as class folders; every voice stays in one split; nothing is broken.
  const auto j = nlohmann::json::parse(run_cli("data inspect --json " + q(t / "a")).output);
  EXPECT_EQ(j["layout"], "class_folders");
  EXPECT_TRUE(j["synthetic"].get<bool>());
  std::set<std::string> classes;
  for (const auto& cl : j["classes"]) {
    classes.insert(cl["name"].get<std::string>());
    EXPECT_EQ(cl["count"], 24);
    EXPECT_EQ(cl["sample_rates"], nlohmann::json({16000}));
    EXPECT_NEAR(cl["seconds_min"].get<double>(), 1.0, 1e-9);
  }
  EXPECT_EQ(classes, (std::set<std::string>{"hello_world", "noise", "unknown", "yes"}));
  EXPECT_TRUE(j["speaker_overlap"].empty());
  EXPECT_TRUE(j["problems"].empty()) << j["problems"].dump();
}

TEST(SynthCli, TrainsAsAFolderTaskAndEvalMapsClasses) {
  if (!have_tools()) GTEST_SKIP() << "espeak-ng, flite or sox not installed";
  TempDir t;
  ASSERT_EQ(
      run_cli("data synth --out " + q(t / "ds") + " --keywords yes --per-class 40 -q").exit_code,
      0);
  const auto tr = run_cli("train --task folder --data " + q(t / "ds") +
                          " --epochs 3 --cache '' -q" + " -o " + q(t / "run"));
  ASSERT_EQ(tr.exit_code, 0) << tr.output;
  EXPECT_NE(tr.output.find("test_accuracy"), std::string::npos);

  // The same data with "yes" called "keyword": eval refuses until the class is mapped.
  fs::create_directories(t / "renamed");
  for (const char* c : {"noise", "unknown"}) fs::copy(t / "ds" / c, t / "renamed" / c);
  fs::copy(t / "ds/yes", t / "renamed/keyword");
  const std::string eval = "eval " + q(t / "run/model.json") + " --task folder --cache '' -q " +
                           "--data " + q(t / "renamed");
  const auto bad = run_cli(eval);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("'yes'"), std::string::npos) << bad.output;
  const auto good = run_cli(eval + " --map yes=keyword --json");
  ASSERT_EQ(good.exit_code, 0) << good.output;
  const auto rep = nlohmann::json::parse(good.output);
  const auto same =
      nlohmann::json::parse(run_cli("eval " + q(t / "run/model.json") +
                                    " --task folder --cache '' -q --json --data " + q(t / "ds"))
                                .output);
  EXPECT_EQ(rep["accuracy"], same["accuracy"]);  // renaming changes nothing else
  EXPECT_EQ(rep["clips"], same["clips"]);
  const auto metrics = nlohmann::json::parse(dkws::read_file(t / "run/metrics.json"));
  EXPECT_NEAR(same["accuracy"].get<double>(), metrics["test_accuracy"].get<double>(), 1e-12);
}

TEST(SynthCli, ErrorsNameTheCulprit) {
  TempDir t;
  // No tools on PATH: the first one probed is named, with how to install it.
  const auto missing =
      run_with_path(t / "empty", "data synth --out " + q(t / "x") + " --keywords yes");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("espeak-ng"), std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("apt-get install"), std::string::npos) << missing.output;

  const auto bad_word = run_cli("data synth --out " + q(t / "x") + " --keywords 'y$s'");
  EXPECT_NE(bad_word.exit_code, 0);
  EXPECT_NE(bad_word.output.find("y$s"), std::string::npos) << bad_word.output;
  const auto clash = run_cli("data synth --out " + q(t / "x") + " --keywords noise");
  EXPECT_NE(clash.exit_code, 0);
  EXPECT_NE(clash.output.find("noise"), std::string::npos);
  const auto snr = run_cli("data synth --out " + q(t / "x") + " --keywords yes --snr-db 5");
  EXPECT_NE(snr.exit_code, 0);
  EXPECT_NE(snr.output.find("--snr-db"), std::string::npos) << snr.output;
  // A folder holding other data is never overwritten.
  dkws::testing::write_file(t / "mine.txt", "precious");
  const auto occupied = run_cli("data synth --out " + q(t.path()) + " --keywords yes");
  EXPECT_NE(occupied.exit_code, 0);
  EXPECT_EQ(dkws::read_file(t / "mine.txt"), "precious");
  EXPECT_EQ(run_cli("data synth --help").exit_code, 0);
  EXPECT_EQ(run_cli("eval --help").exit_code, 0);
}
