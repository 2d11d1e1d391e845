// What the sweep records for the statistics: per-clip correctness round-trips through SQLite and
// PostgreSQL storage and the trials.json export (older results without it still load), and the
// speaker-disjoint k-fold splits, alone and in a real `dkws sweep --folds K`.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "dkws/error.hpp"
#include "dkws/sweep_analysis.hpp"
#include "dkws/sweep_run.hpp"
#include "dkws/util.hpp"
#include "report/sweep_report.hpp"
#include "sweep_test_util.hpp"

namespace {

using namespace dkws::testing;
using namespace dkws::sweep;
using nlohmann::json;

void check_clip_round_trip(const std::string& url) {
  const std::vector<std::string> paths = {"a/x_nohash_0.wav", "a/y_nohash_0.wav",
                                          "b/z_nohash_1.wav"};
  // 70 clips: more than one 64-bit word, and a last byte only partly used.
  std::vector<int> truth, pred;
  std::vector<std::string> many;
  for (int i = 0; i < 70; ++i) {
    truth.push_back(i % 3), pred.push_back(i % 5 == 0 ? (i + 1) % 3 : i % 3);
    many.push_back(paths[size_t(i) % 3] + std::to_string(i));
  }
  auto store = open_storage(url);
  store->create({{"task", "folder"}, {"arms", {"none", "gd"}}, {"seeds", {1}}},
                make_trials({json{{"lr", 0.01}}}, {"none", "gd"}, 1));
  auto c1 = store->claim("host:1", 60, 3);
  auto c2 = store->claim("host:1", 60, 3);
  ASSERT_TRUE(c1 && c2);
  const json record = clip_record(truth, pred, many);
  ASSERT_TRUE(store->finish(c1->spec.trial_id, c1->token, true,
                            {{"val_acc", 0.5},
                             {"test_acc", 0.8},
                             {"params", 100},
                             {"dendrites", 2},
                             {"clips", {{"val", record}, {"test", record}}}},
                            ""));
  // A result as older sweeps recorded it: no clips.
  ASSERT_TRUE(store->finish(c2->spec.trial_id, c2->token, true,
                            {{"val_acc", 0.5}, {"test_acc", 0.7}, {"params", 100}}, ""));

  const json doc = trials_export(store->metadata(), store->trials());
  const dkws::SweepTrials t = dkws::parse_sweep_trials(json::parse(doc.dump()), "trials.json");
  ASSERT_EQ(t.trials.size(), 2u);
  const dkws::SweepTrial& with = t.trials[0];
  ASSERT_TRUE(with.test_clips && with.val_clips);
  EXPECT_EQ(with.dendrites, 2);
  EXPECT_EQ(with.test_clips->n, 70u);
  EXPECT_EQ(with.test_clips->set, clip_set_fingerprint(many));
  size_t wrong = 0;
  for (size_t i = 0; i < 70; ++i) {
    const bool bit = (with.test_clips->words[i / 64] >> (i % 64)) & 1;
    EXPECT_EQ(bit, truth[i] == pred[i]) << "clip " << i;
    wrong += truth[i] != pred[i];
  }
  EXPECT_EQ(with.test_clips->correct(), 70 - wrong);
  EXPECT_FALSE(t.trials[1].test_clips.has_value());
  EXPECT_FALSE(t.trials[1].val_clips.has_value());
  // The report's CSV carries the same bits.
  EXPECT_NE(dkws::sweep_trials_csv(t).find("," + record["correct"].get<std::string>() + "\n"),
            std::string::npos);
}

TEST(SweepClips, SqliteRoundTripOfClipRecords) {
  TempDir dir;
  check_clip_round_trip((dir / "s.db").string());
}

TEST(SweepClips, PostgresRoundTripOfClipRecords) {
  if (PgServer::bin_dir().empty())
    GTEST_SKIP() << "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get "
                    "install postgresql)";
  PgServer pg;
  ASSERT_TRUE(pg.started()) << pg.log();
  const std::string url = pg.create_db("clips");
  ASSERT_FALSE(url.empty());
  check_clip_round_trip(url);
}

TEST(SweepClips, MalformedClipRecordIsOneLineNamingTheKey) {
  json doc = {{"format", "dkws-sweep-trials"},
              {"version", 1},
              {"trials",
               {{{"trial_id", 1},
                 {"config_id", 1},
                 {"seed", 1},
                 {"arm", "none"},
                 {"status", "done"},
                 {"val_acc", 0.5},
                 {"test_acc", 0.5},
                 {"params", 10},
                 {"clips", {{"test", {{"n", 30}, {"set", "x"}, {"correct", "AAAA"}}}}}}}}};
  try {
    dkws::parse_sweep_trials(doc, "t.json");
    ADD_FAILURE() << "a record with 3 bytes for 30 clips was accepted";
  } catch (const dkws::Error& e) {
    EXPECT_STREQ(e.what(),
                 "t.json: trials[0]: clips.test: key 'correct' holds 3 bytes, 30 clips need 4");
  }
  doc["trials"][0]["clips"]["test"]["n"] = 24;  // 3 bytes: accepted
  EXPECT_EQ(dkws::parse_sweep_trials(doc, "t.json").trials[0].test_clips->n, 24u);
}

// 20 speakers, 3 clips each, spread over the original splits without regard to speaker.
dkws::TaskData speaker_task() {
  dkws::TaskData d;
  d.classes = {"a", "b"};
  dkws::FeatureSet* sets[3] = {&d.train, &d.val, &d.test};
  for (auto* s : sets) s->frames = 1, s->coeffs = 2;
  for (int spk = 0; spk < 20; ++spk)
    for (int i = 0; i < 3; ++i) {
      dkws::FeatureSet& s = *sets[(spk + i) % 3];
      s.x.insert(s.x.end(), {float(spk), float(i)});
      s.y.push_back((spk + i) % 2);
      s.paths.push_back("w/spk" + std::to_string(spk) + "_nohash_" + std::to_string(i) + ".wav");
    }
  return d;
}

TEST(SweepFolds, SpeakerDisjointAndEveryClipTestedAndValidatedOnce) {
  const dkws::TaskData d = speaker_task();
  const dkws::FeatureSet pooled = pooled_clips(d);
  ASSERT_EQ(pooled.size(), 60u);
  const int k = 4;
  const std::vector<int> fold = speaker_folds(pooled.paths, k);
  std::map<std::string, int> tested, validated;
  for (int f = 0; f < k; ++f) {
    const dkws::TaskData t = fold_task(d, pooled, fold, k, f);
    EXPECT_EQ(t.train.size() + t.val.size() + t.test.size(), 60u);
    std::map<std::string, std::set<std::string>> splits_of;  // speaker -> splits
    auto note = [&](const dkws::FeatureSet& s, const char* name) {
      for (size_t i = 0; i < s.size(); ++i) {
        splits_of[dkws::speaker_of(s.paths[i])].insert(name);
        // Rows travel whole: features and label stay with their path.
        const size_t at = size_t(std::find(pooled.paths.begin(), pooled.paths.end(), s.paths[i]) -
                                 pooled.paths.begin());
        EXPECT_EQ(s.y[i], pooled.y[at]);
        EXPECT_EQ(s.row(i)[0], pooled.row(at)[0]);
      }
    };
    note(t.train, "train"), note(t.val, "val"), note(t.test, "test");
    for (const auto& [spk, splits] : splits_of)
      EXPECT_EQ(splits.size(), 1u) << "fold " << f << ": speaker " << spk << " in two splits";
    for (const auto& p : t.test.paths) ++tested[p];
    for (const auto& p : t.val.paths) ++validated[p];
  }
  EXPECT_EQ(tested.size(), 60u);
  EXPECT_EQ(validated.size(), 60u);
  for (const auto& [p, n] : tested) EXPECT_EQ(n, 1) << p;
  for (const auto& [p, n] : validated) EXPECT_EQ(n, 1) << p;

  EXPECT_THROW(speaker_folds(pooled.paths, 1), dkws::Error);
  // More folds than speakers can fill: a one-line error naming the option.
  const std::vector<int> sparse = speaker_folds(pooled.paths, 40);
  bool refused = false;
  for (int f = 0; f < 40 && !refused; ++f) try {
      fold_task(d, pooled, sparse, 40, f);
    } catch (const dkws::Error& e) {
      refused = std::string(e.what()).rfind("--folds 40: fold", 0) == 0;
    }
  EXPECT_TRUE(refused);
}

// A real sweep: without --folds every trial records its validation and test clips, and the test
// bits agree with test_acc; with --folds 3 every clip of the task is tested once, the pooled
// answers make test_acc, and each fold's model has its own folder.
TEST(SweepFolds, SweepRecordsClipsAndFoldsScoreEveryClip) {
  TempDir shared;
  make_tone_dataset(shared / "data");
  write_tiny_space(shared / "space.json", 40);
  for (int folds : {1, 3}) {
    const fs::path out = shared / ("out" + std::to_string(folds));
    const auto r = run_cli(shell_args(
        tone_sweep_args(shared.path(), out, "none,gd",
                        {"--configs", "1", "-j", "1", "--folds", std::to_string(folds)})));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const dkws::SweepTrials t = dkws::load_sweep_trials(out / "trials.json");
    ASSERT_EQ(t.trials.size(), 2u);
    for (const auto& tr : t.trials) {
      ASSERT_TRUE(tr.done()) << tr.error;
      ASSERT_TRUE(tr.test_clips && tr.val_clips);
      if (folds == 1) {
        EXPECT_LT(tr.test_clips->n, 72u);
      } else {
        EXPECT_EQ(tr.test_clips->n, 72u);  // every clip of the tone task
        EXPECT_EQ(tr.val_clips->n, 72u);
        for (int f = 1; f <= 3; ++f)
          EXPECT_TRUE(fs::exists(out / tr.run_dir / ("fold-" + std::to_string(f)) / "model.json"));
      }
      EXPECT_NEAR(tr.test_acc, double(tr.test_clips->correct()) / double(tr.test_clips->n), 1e-12);
      EXPECT_NEAR(tr.val_acc, double(tr.val_clips->correct()) / double(tr.val_clips->n), 1e-12);
    }
    const json doc = json::parse(dkws::read_file(out / "trials.json"));
    EXPECT_EQ(doc["sweep"]["folds"], folds);
    EXPECT_EQ(doc["trials"][0].contains("folds"), folds > 1);
    if (folds > 1) {
      EXPECT_EQ(doc["trials"][0]["folds"].size(), 3u);
    }
  }
}

}  // namespace
