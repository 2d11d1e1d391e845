// The data stage: hashes, the Speech Commands split rule, every dataset layout, the kws12 / kw3
// tasks and the feature cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "data/data_internal.hpp"
#include "dkws/audio.hpp"
#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using dkws::testing::TempDir;

namespace {

// A short tone with a little noise, so clips are neither silent nor identical.
std::vector<float> tone(double freq, double seconds = 1.0, int rate = 16000, unsigned seed = 1) {
  std::vector<float> s(size_t(seconds * rate));
  unsigned x = seed;
  for (size_t i = 0; i < s.size(); ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = float(8000 * std::sin(2 * M_PI * freq * double(i) / rate) + double(x >> 24) - 128);
  }
  return s;
}

void clip(const fs::path& p, double freq, unsigned seed = 1) {
  fs::create_directories(p.parent_path());
  dkws::write_wav(p, tone(freq, 1.0, 16000, seed), 16000);
}

bool mentions(const std::vector<dkws::DataProblem>& problems, const std::string& what) {
  for (const auto& p : problems)
    if (p.line().find(what) != std::string::npos) return true;
  return false;
}

std::map<std::string, int> split_counts(const dkws::DatasetIndex& d) {
  std::map<std::string, int> n;
  for (const auto& c : d.clips) ++n[c.split];
  return n;
}

}  // namespace

TEST(Hashes, Md5KnownVectors) {
  using dkws::data::md5_hex;
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5_hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  // Padding boundaries: 55 bytes fit one block, 56 need two, 64 is exactly one.
  EXPECT_EQ(md5_hex(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(md5_hex(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(md5_hex(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
  EXPECT_EQ(md5_hex(std::string(119, 'a')), "8a7bd0732ed6a28ce75f6dabc90e1613");
  std::string digits;
  for (int i = 0; i < 8; ++i) digits += "1234567890";
  EXPECT_EQ(md5_hex(digits), "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Hashes, Xxh64KnownVectors) {
  using dkws::data::xxh64;
  EXPECT_EQ(xxh64(""), 0xef46db3751d8e999ull);
  EXPECT_EQ(xxh64("a"), 0xd24ec4f1a98c6e5bull);
  EXPECT_EQ(xxh64("abc"), 0x44bc2cf5ad770999ull);
  EXPECT_EQ(xxh64("1234"), 0xd8316e61d84f6ba4ull);
  EXPECT_EQ(xxh64("12345678"), 0xd2d02f08cf7cfd4aull);
  EXPECT_EQ(xxh64("1234567890123456789012345678901"), 0x8f367cb873a5376eull);
  EXPECT_EQ(xxh64("12345678901234567890123456789012"), 0x40fd1aa52d98274cull);
  EXPECT_EQ(xxh64("The quick brown fox jumps over the lazy dog"), 0x0b242d361fda71bcull);
  EXPECT_EQ(xxh64(std::string_view("abc"), 5381), 0x19d1c1b5c673451full);
}

TEST(Speakers, SpeakerOfNameForms) {
  EXPECT_EQ(dkws::speaker_of("yes/022cd682_nohash_0.flac"), "022cd682");
  EXPECT_EQ(dkws::speaker_of("_unknown_/backward_0c540988_nohash_0.flac"), "0c540988");
  EXPECT_EQ(dkws::speaker_of("_silence_/1024.flac"), "1024");
  EXPECT_EQ(dkws::speaker_of("a/0a7c2a8d_nohash_1.wav.wav"), "0a7c2a8d");
  EXPECT_EQ(dkws::speaker_of("yes.0a7c2a8d_nohash_0"), "0a7c2a8d");  // Edge Impulse sample name
  EXPECT_EQ(dkws::speaker_of("take3.wav"), "take3");
  EXPECT_TRUE(dkws::data::has_speaker("x/0a7c2a8d_nohash_1.wav"));
  EXPECT_FALSE(dkws::data::has_speaker("x/1024.wav"));
}

TEST(Speakers, SplitPercentages) {
  EXPECT_THROW(dkws::split_for_speaker("a", 60, 50), dkws::Error);
  EXPECT_THROW(dkws::split_for_speaker("a", -1, 20), dkws::Error);
  for (const char* s : {"a", "b", "c", "0c540988"})
    EXPECT_EQ(dkws::split_for_speaker(s, 0, 0), "train");
  for (const char* s : {"a", "b", "c", "0c540988"})
    EXPECT_EQ(dkws::split_for_speaker(s, 0, 100), "test");
}

TEST(Speakers, ReproducesSplitsTsvForEveryRow) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "shared data not present";
  std::ifstream in(dkws::testing::data_dir() / "speech_commands_v2_test" / "splits.tsv");
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line, "split\tlabel\tpath");
  int rows = 0;
  while (std::getline(in, line)) {
    const size_t a = line.find('\t'), b = line.find('\t', a + 1);
    const std::string split = line.substr(0, a), path = line.substr(b + 1);
    ASSERT_EQ(dkws::split_for_speaker(dkws::speaker_of(path)), split) << path;
    ++rows;
  }
  EXPECT_EQ(rows, 4890);
}

TEST(Speakers, WriteSpeakerSplitReproducesSplitsTsv) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "shared data not present";
  TempDir t;
  const fs::path sc = dkws::testing::data_dir() / "speech_commands_v2_test";
  const auto s = dkws::write_speaker_split(sc, t / "out.tsv");
  EXPECT_EQ(s.rows[0], 2860u);
  EXPECT_EQ(s.rows[1], 1105u);
  EXPECT_EQ(s.rows[2], 925u);
  EXPECT_EQ(s.speakers[0], 142u);  // SPLITS.md
  EXPECT_EQ(s.speakers[1], 56u);
  EXPECT_EQ(s.speakers[2], 41u);
  // Ours adds a speaker column to the shipped split<TAB>label<TAB>path.
  std::ifstream mine(t / "out.tsv"), theirs(sc / "splits.tsv");
  std::string a, b;
  while (std::getline(theirs, b)) {
    ASSERT_TRUE(std::getline(mine, a));
    const size_t speaker_at = a.rfind('\t');
    const std::string speaker = a.substr(speaker_at + 1);
    a.erase(speaker_at);
    if (b.starts_with("split\t")) {
      EXPECT_EQ(a, b);
      EXPECT_EQ(speaker, "speaker");
      continue;
    }
    const size_t i = b.rfind('\t'), j = a.rfind('\t');
    EXPECT_EQ(a.substr(0, j), b.substr(0, i));  // split and label
    EXPECT_EQ((t.path() / a.substr(j + 1)).lexically_normal(),
              (sc / b.substr(i + 1)).lexically_normal());
    EXPECT_EQ(speaker, dkws::data::clip_speaker(b.substr(i + 1))) << b;
  }
  EXPECT_FALSE(std::getline(mine, a));
}

TEST(OpenDataset, ClassFoldersWithProblems) {
  TempDir t;
  clip(t / "yes/aaaa0001_nohash_0.wav", 440);
  clip(t / "yes/aaaa0001_nohash_1.wav", 450);
  clip(t / "yes/bbbb0002_nohash_0.wav", 460);
  clip(t / "no/cccc0003_nohash_0.wav", 300);
  clip(t / "no/dddd0004_nohash_0.wav", 310);
  dkws::testing::write_file(t / "no/broken_nohash_0.wav", "RIFF this is not audio at all");
  dkws::testing::write_file(t / "no/notes.txt", "hello");
  fs::create_directories(t / "maybe");
  const auto d = dkws::open_dataset(t.path());
  EXPECT_EQ(d.layout, "class_folders");
  EXPECT_EQ(d.classes, (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(d.clips.size(), 5u);
  EXPECT_TRUE(mentions(d.problems, "maybe")) << "empty class folder not reported";
  EXPECT_TRUE(mentions(d.problems, "broken_nohash_0.wav")) << "corrupt file not reported";
  EXPECT_TRUE(mentions(d.problems, "notes.txt"));
  for (const auto& c : d.clips) {
    EXPECT_EQ(c.split, dkws::split_for_speaker(c.speaker));
    EXPECT_EQ(c.speaker.size(), 8u);
  }
}

TEST(OpenDataset, FatalCases) {
  TempDir t;
  try {
    dkws::open_dataset(t / "nope");
    FAIL() << "no error for a missing folder";
  } catch (const dkws::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
  EXPECT_THROW(dkws::open_dataset(t.path()), dkws::Error);  // no classes at all
  fs::create_directories(t / "empty");
  fs::create_directories(t / "bad");
  dkws::testing::write_file(t / "bad/x.wav", "");
  EXPECT_THROW(dkws::open_dataset(t.path()), dkws::Error);  // only empty / unreadable classes
}

TEST(OpenDataset, SpeechCommandsLists) {
  TempDir t;
  clip(t / "yes/aaaa0001_nohash_0.wav", 440);
  clip(t / "yes/bbbb0002_nohash_0.wav", 450);
  clip(t / "yes/cccc0003_nohash_0.wav", 460);
  clip(t / "no/aaaa0001_nohash_0.wav", 300);
  clip(t / "_background_noise_/white.wav", 100);
  // The lists name .wav files; a renamed .flac copy must still match, so use the stem rule.
  dkws::testing::write_file(t / "validation_list.txt", "yes/bbbb0002_nohash_0.wav\n");
  dkws::testing::write_file(t / "testing_list.txt", "yes/cccc0003_nohash_0.flac\nno/gone.wav\n");
  const auto d = dkws::open_dataset(t.path());
  EXPECT_EQ(d.layout, "speech_commands");
  EXPECT_EQ(d.classes, (std::vector<std::string>{"no", "yes"}));
  ASSERT_EQ(d.clips.size(), 4u);
  std::map<std::string, std::string> split;
  for (const auto& c : d.clips) split[c.path.filename().string() + "/" + c.label] = c.split;
  EXPECT_EQ(split["aaaa0001_nohash_0.wav/yes"], "train");
  EXPECT_EQ(split["aaaa0001_nohash_0.wav/no"], "train");
  EXPECT_EQ(split["bbbb0002_nohash_0.wav/yes"], "val");
  EXPECT_EQ(split["cccc0003_nohash_0.wav/yes"], "test");
  EXPECT_TRUE(mentions(d.problems, "1 entries"));  // no/gone.wav
}

TEST(OpenDataset, SplitTsv) {
  TempDir t;
  clip(t / "a/one.wav", 440);
  clip(t / "a/two.wav", 450);
  clip(t / "b/three.wav", 300);
  dkws::testing::write_file(t / "splits.tsv",
                            "split\tlabel\tpath\ntrain\ta\ta/one.wav\nvalidation\ta\ta/two.wav\n"
                            "test\tb\tb/three.wav\nbogus\tb\tb/three.wav\ntrain\tb\tb/missing.wav\n"
                            "short line\n");
  for (const fs::path& root : {t.path(), t / "splits.tsv"}) {
    const auto d = dkws::open_dataset(root);
    EXPECT_EQ(d.layout, "split_tsv");
    ASSERT_EQ(d.clips.size(), 3u);
    EXPECT_EQ(d.clips[1].split, "val");
    EXPECT_EQ(d.clips[2].split, "test");
    EXPECT_TRUE(mentions(d.problems, "bogus"));
    EXPECT_TRUE(mentions(d.problems, "missing.wav"));
    EXPECT_TRUE(mentions(d.problems, "splits.tsv:7"));
  }
  dkws::testing::write_file(t / "bad.tsv", "a\tb\tc\n");
  EXPECT_THROW(dkws::open_dataset(t / "bad.tsv"), dkws::Error);
}

TEST(OpenDataset, EdgeImpulseInfoLabels) {
  TempDir t;
  nlohmann::json files = nlohmann::json::array();
  int n = 0;
  for (const char* label : {"yes", "noise"}) {
    for (int s = 0; s < 10; ++s) {
      const std::string speaker = fmt::format("{:08x}", 0x1000 + s * 7919);
      const std::string name = fmt::format("{}.{}_nohash_0", label, speaker);
      const std::string cat = s < 8 ? "training" : "testing";
      const std::string path = fmt::format("{}/{}.wav.{}x.wav", cat, name, n);
      clip(t / path, 300 + 10 * n, unsigned(n + 1));
      ++n;
      files.push_back({{"path", path},
                       {"name", name},
                       {"category", cat},
                       {"label", {{"type", "label"}, {"label", label}}}});
    }
  }
  files.push_back({{"path", "training/u.wav"},
                   {"name", "u"},
                   {"category", "training"},
                   {"label", {{"type", "unlabeled"}}}});
  dkws::testing::write_file(t / "info.labels",
                            nlohmann::json{{"version", 1}, {"files", files}}.dump());
  const auto d = dkws::open_dataset(t.path());
  EXPECT_EQ(d.layout, "edge_impulse");
  EXPECT_EQ(d.classes, (std::vector<std::string>{"noise", "yes"}));
  ASSERT_EQ(d.clips.size(), 20u);
  EXPECT_TRUE(mentions(d.problems, "u.wav"));
  for (const auto& c : d.clips) {
    const bool testing = c.path.parent_path().filename() == "testing";
    EXPECT_EQ(c.split == "test", testing) << c.path;
    if (!testing) {
      EXPECT_EQ(c.split, dkws::split_for_speaker(c.speaker, 20, 0));
    }
    EXPECT_EQ(c.speaker.size(), 8u);
  }
  EXPECT_EQ(split_counts(d)["test"], 4);
  dkws::testing::write_file(t / "info.labels", "{not json");
  EXPECT_THROW(dkws::open_dataset(t.path()), dkws::Error);
}

TEST(LoadTask, FolderTaskCacheIsReusedAndInvalidated) {
  TempDir t;
  for (int i = 0; i < 12; ++i)
    clip(t / fmt::format("data/{}/{:08x}_nohash_0.wav", i % 2 ? "on" : "off", 0xabc + i * 977),
         200 + 37 * i, unsigned(i + 1));
  dkws::TaskSpec spec;
  spec.name = "folder";
  spec.data_dir = t / "data";
  spec.cache_dir = t / "cache";
  spec.quiet = true;
  const auto a = dkws::load_task(spec);
  EXPECT_EQ(a.classes, (std::vector<std::string>{"off", "on"}));
  EXPECT_EQ(a.features_computed, 12u);
  EXPECT_EQ(a.train.size() + a.val.size() + a.test.size(), 12u);
  EXPECT_EQ(a.train.dim(), spec.front_end.frames() * spec.front_end.coeffs());
  const auto b = dkws::load_task(spec);
  EXPECT_EQ(b.features_computed, 0u);
  EXPECT_EQ(b.features_from_cache, 12u);
  EXPECT_EQ(a.train.x, b.train.x);
  EXPECT_EQ(a.test.paths, b.test.paths);
  // An edited clip is recomputed; a changed front end recomputes everything.
  clip(t / "data/off/00000abc_nohash_0.wav", 999, 77);
  EXPECT_EQ(dkws::load_task(spec).features_computed, 1u);
  spec.front_end.set("num_cepstral", "10");
  const auto c = dkws::load_task(spec);
  EXPECT_EQ(c.features_computed, 12u);
  EXPECT_EQ(c.train.coeffs, 10);
  // A damaged cache file is ignored (and rewritten), not trusted.
  for (const auto& e : fs::directory_iterator(t / "cache"))
    dkws::testing::write_file(e.path(), "junk");
  EXPECT_EQ(dkws::load_task(spec).features_computed, 12u);
  EXPECT_EQ(dkws::load_task(spec).features_computed, 0u);
}

TEST(LoadTask, Kws12CountsAndCache) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "shared data not present";
  TempDir t;
  dkws::TaskSpec spec;
  spec.name = "kws12";
  spec.data_dir = dkws::testing::data_dir();
  spec.cache_dir = t / "cache";
  spec.quiet = true;
  auto t0 = std::chrono::steady_clock::now();
  const auto a = dkws::load_task(spec);
  auto t1 = std::chrono::steady_clock::now();
  const auto b = dkws::load_task(spec);
  auto t2 = std::chrono::steady_clock::now();
  std::printf("kws12 features: cold %.2f s, warm %.2f s\n",
              std::chrono::duration<double>(t1 - t0).count(),
              std::chrono::duration<double>(t2 - t1).count());
  EXPECT_EQ(a.classes.size(), 12u);
  EXPECT_EQ(a.classes[0], "yes");
  EXPECT_EQ(a.classes[10], "_silence_");
  EXPECT_EQ(a.classes[11], "_unknown_");
  EXPECT_EQ(a.train.size(), 2860u);
  EXPECT_EQ(a.val.size(), 1105u);
  EXPECT_EQ(a.test.size(), 925u);
  EXPECT_EQ(a.train.dim(), 650);
  EXPECT_EQ(a.train.x.size(), 2860u * 650u);
  EXPECT_EQ(std::count(a.train.y.begin(), a.train.y.end(), 0), 241);  // yes, from SPLITS.md
  EXPECT_EQ(std::count(a.test.y.begin(), a.test.y.end(), 11), 81);    // _unknown_
  EXPECT_EQ(a.features_computed, 4890u);
  EXPECT_EQ(b.features_computed, 0u);
  EXPECT_EQ(b.features_from_cache, 4890u);
  EXPECT_EQ(a.train.x, b.train.x);
  EXPECT_EQ(a.val.x, b.val.x);
  EXPECT_EQ(a.test.x, b.test.x);
  EXPECT_EQ(a.test.paths, b.test.paths);
}

TEST(LoadTask, Kw3ClassesAndNoiseSources) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "shared data not present";
  TempDir t;
  dkws::TaskSpec spec;
  spec.name = "kw3";
  spec.data_dir = dkws::testing::data_dir();
  spec.cache_dir = t / "cache";
  spec.quiet = true;
  const auto a = dkws::load_task(spec);
  ASSERT_EQ(a.classes, (std::vector<std::string>{"yes", "unknown", "noise"}));
  for (const dkws::FeatureSet* s : {&a.train, &a.val, &a.test}) {
    const auto yes = std::count(s->y.begin(), s->y.end(), 0);
    const auto unknown = std::count(s->y.begin(), s->y.end(), 1);
    const auto noise = std::count(s->y.begin(), s->y.end(), 2);
    EXPECT_GT(yes, 50);
    EXPECT_EQ(unknown, yes);
    EXPECT_GE(noise, yes);
    EXPECT_LE(noise, yes * 3 / 2);
    bool from_silence = false, from_recordings = false;
    std::set<std::string> words;
    for (size_t i = 0; i < s->size(); ++i) {
      const std::string& p = s->paths[i];
      if (s->y[i] == 2) {
        from_silence |= p.find("_silence_/") != std::string::npos;
        from_recordings |= p.find("background_noise/") != std::string::npos;
      } else if (s->y[i] == 1) {
        EXPECT_EQ(p.find("yes/"), std::string::npos);
        EXPECT_EQ(p.find("_silence_"), std::string::npos);
        const std::string name = fs::path(p).filename().string();
        words.insert(p.starts_with("speech_commands_v2_test/_unknown_/")
                         ? name.substr(0, name.find('_'))
                         : fs::path(p).parent_path().filename().string());
      }
    }
    EXPECT_TRUE(from_silence);
    EXPECT_TRUE(from_recordings);
    // 34 other words; a few have no clips in the smaller splits.
    EXPECT_GE(words.size(), 25u) << "unknown should sample (nearly) every other word";
  }
  // Same seed, same selection (served from the cache); another seed, another sample.
  const auto b = dkws::load_task(spec);
  EXPECT_EQ(b.features_computed, 0u);
  EXPECT_EQ(a.train.paths, b.train.paths);
  EXPECT_EQ(a.train.x, b.train.x);
  spec.seed = 2;
  const auto c = dkws::load_task(spec);
  EXPECT_NE(a.train.paths, c.train.paths);
  EXPECT_GT(c.features_from_cache, 0u);
}
