// The TPE sampler: the good/bad split by non-dominated fronts, per-config averaging over arms and
// seeds, determinism by seed, concentration on a known optimum of a synthetic objective over the
// paper's space (against random sampling), option errors, and an end-to-end `dkws sweep --sampler
// tpe` on the tiny tone task whose rounds come out the same when interrupted and resumed.
#include <set>

#include "dkws/error.hpp"
#include "dkws/sweep_storage.hpp"
#include "dkws/sweep_tpe.hpp"
#include "dkws/util.hpp"
#include "sweep_test_util.hpp"

namespace {

using namespace dkws::sweep;
using namespace dkws::testing;
using nlohmann::json;

TpeObservation ob(double val, double params, bool ok = true) {
  TpeObservation o;
  o.ok = ok, o.val_acc = val, o.params = params;
  return o;
}

TEST(SweepTpe, GoodSetIsTheFirstFrontsWithFailedConfigsLast) {
  // Front 1: 0 (small, good), 1 (big, best), 3 (middle); 2 is dominated by 3; 4 failed.
  const std::vector<TpeObservation> obs = {ob(0.80, 1000), ob(0.90, 4000), ob(0.81, 3000),
                                           ob(0.85, 2000), ob(0, 0, false)};
  EXPECT_EQ(tpe_good_set(obs, 0.6), (std::vector<size_t>{0, 1, 3}));
  // Two of the three-point front: the extremes of the crowding distance.
  EXPECT_EQ(tpe_good_set(obs, 0.4), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(tpe_good_set(obs, 0.0), (std::vector<size_t>{0})) << "at least one config";
  EXPECT_EQ(tpe_good_set(obs, 0.8), (std::vector<size_t>{0, 1, 2, 3}));
  // A failed config is worse than any finished one, even one with zero accuracy.
  const std::vector<TpeObservation> bad = {ob(0, 0, false), ob(0.0, 9000)};
  EXPECT_EQ(tpe_good_set(bad, 0.25), (std::vector<size_t>{1}));
  EXPECT_EQ(tpe_good_set({ob(0, 0, false), ob(0, 0, false)}, 0.25), (std::vector<size_t>{0}));
  EXPECT_TRUE(tpe_good_set({}, 0.25).empty());
}

TEST(SweepTpe, ObservationsAverageEveryArmAndSeedOfAFinishedConfig) {
  auto row = [](int config, const std::string& arm, const std::string& status, double val,
                double params) {
    TrialRow r;
    r.spec.config_id = config, r.spec.arm = arm, r.spec.hparams = {{"width", config}};
    r.status = status;
    if (status == "done") r.result = {{"val_acc", val}, {"params", params}};
    return r;
  };
  const std::vector<TrialRow> rows = {
      row(1, "none", "done", 0.8, 1000), row(1, "gd", "done", 0.9, 1400),
      row(1, "cc", "failed", 0, 0),      row(2, "none", "failed", 0, 0),
      row(2, "gd", "failed", 0, 0),      row(3, "none", "done", 0.7, 900),
      row(3, "gd", "running", 0, 0)};
  const auto obs = tpe_observations(rows);
  ASSERT_EQ(obs.size(), 2u) << "config 3 is still running";
  EXPECT_TRUE(obs[0].ok);
  EXPECT_DOUBLE_EQ(obs[0].val_acc, 0.85);
  EXPECT_DOUBLE_EQ(obs[0].params, 1200);
  EXPECT_EQ(obs[0].hparams, json({{"width", 1}}));
  EXPECT_FALSE(obs[1].ok) << "every trial of config 2 failed";
}

TEST(SweepTpe, RoundsFollowTheConfigIds) {
  TpeSettings s;
  s.startup = 3, s.batch = 2;
  EXPECT_EQ(tpe_round_of(1, s), 0);
  EXPECT_EQ(tpe_round_of(3, s), 0);
  EXPECT_EQ(tpe_round_of(4, s), 1);
  EXPECT_EQ(tpe_round_of(5, s), 1);
  EXPECT_EQ(tpe_round_of(6, s), 2);
  EXPECT_EQ(TpeSettings::from_json(s.to_json()).batch, 2u);
}

// A synthetic study over the paper's space: accuracy grows with width, and is best at num_conv 2
// and lr 0.005; size grows with width and num_conv. Nothing else matters.
double synth_val(const json& h) {
  return 0.70 + 0.05 * std::log2(h["width"].get<double>() / 0.25) -
         0.10 * (h["num_conv"].get<int>() != 2) - 0.08 * (h["lr"].get<double>() != 0.005);
}
double synth_params(const json& h) {
  return 1000 * h["width"].get<double>() * (1 + 0.5 * (h["num_conv"].get<int>() - 1));
}

// Whether (width, num_conv, lr) of h is on the Pareto frontier of the whole space, by brute force.
bool pareto_optimal(const SearchSpace& space, const json& h) {
  auto choices = [&](const std::string& name) {
    for (const auto& p : space.params)
      if (p.name == name) return p.choices;
    return std::vector<json>{};
  };
  const double v = synth_val(h), p = synth_params(h);
  for (const json& w : choices("width"))
    for (const json& c : choices("num_conv"))
      for (const json& l : choices("lr")) {
        const json o = {{"width", w}, {"num_conv", c}, {"lr", l}};
        const double ov = synth_val(o), op = synth_params(o);
        if (ov >= v && op <= p && (ov > v || op < p)) return false;
      }
  return true;
}

TpeObservation evaluate(const json& h) {
  TpeObservation o = ob(synth_val(h), synth_params(h));
  o.hparams = h;
  return o;
}

// The share of 40 proposals after 10 startup configs that land on the frontier.
double tpe_hit_rate(const SearchSpace& space, uint64_t seed) {
  TpeSettings s;
  s.startup = 10;
  std::vector<json> configs = sample_configs(space, "random", s.startup, seed);
  std::vector<TpeObservation> obs;
  for (const json& h : configs) obs.push_back(evaluate(h));
  size_t hits = 0, n = 0;
  for (int round = 1; round <= 5; ++round) {
    for (const json& h : tpe_propose(space, obs, configs, s.batch, seed, round, s)) {
      EXPECT_NO_THROW(space.config_for(h)) << h.dump();
      hits += pareto_optimal(space, h), ++n;
      obs.push_back(evaluate(h));
      configs.push_back(h);
    }
  }
  EXPECT_EQ(n, 40u);
  return double(hits) / double(n);
}

TEST(SweepTpe, ProposalsConcentrateOnTheFrontierFarMoreThanRandom) {
  const SearchSpace space = load_space(source_dir() / "configs" / "sweep_paper.json");
  double tpe = 0, random = 0;
  const uint64_t seeds[] = {1, 2, 3, 4};
  for (uint64_t seed : seeds) {
    tpe += tpe_hit_rate(space, seed) / 4;
    const auto r = sample_configs(space, "random", 50, seed);
    double hits = 0;
    for (size_t i = 10; i < 50; ++i) hits += pareto_optimal(space, r[i]);
    random += hits / 40 / 4;
  }
  // 5 of the 36 (width, num_conv, lr) settings are optimal: random hits about 14%.
  std::printf("frontier hit rate over 4 seeds x 40 proposals: tpe %.3f, random %.3f\n", tpe,
              random);
  EXPECT_GE(tpe, 2 * random);
  EXPECT_GE(tpe, 2 * 5.0 / 36);
}

TEST(SweepTpe, SameSeedSameProposalsAndNoRepeats) {
  const SearchSpace space = load_space(source_dir() / "configs" / "sweep_paper.json");
  const std::vector<json> start = sample_configs(space, "random", 8, 5);
  std::vector<TpeObservation> obs;
  for (const json& h : start) obs.push_back(evaluate(h));
  obs[3].ok = false;
  TpeSettings s;
  const auto a = tpe_propose(space, obs, start, 8, 5, 1, s);
  EXPECT_EQ(a, tpe_propose(space, obs, start, 8, 5, 1, s));
  EXPECT_NE(a, tpe_propose(space, obs, start, 8, 6, 1, s)) << "the seed is ignored";
  EXPECT_NE(a, tpe_propose(space, obs, start, 8, 5, 2, s)) << "the round is ignored";
  std::set<std::string> seen;
  for (const json& h : start) seen.insert(h.dump());
  for (const json& h : a) EXPECT_TRUE(seen.insert(h.dump()).second) << "repeated " << h.dump();
  EXPECT_THROW(tpe_propose(space, obs, start, 1, 5, 0, s), dkws::Error);
}

TEST(SweepTpe, RangesStayInsideAndIntegersRound) {
  const SearchSpace space = parse_space({{"params",
                                          {{"lr", {{"range", {0.001, 0.1}}, {"log", true}}},
                                           {"batch_size", {{"range", {8, 64}}, {"int", true}}},
                                           {"dropout", {{"range", {0.0, 0.5}}}}}}},
                                        "t");
  std::vector<json> configs = sample_configs(space, "random", 6, 2);
  std::vector<TpeObservation> obs;
  for (const json& h : configs) {
    // Best near small dropout and lr 0.01.
    TpeObservation o =
        ob(1 - h["dropout"].get<double>() - std::abs(std::log10(h["lr"].get<double>()) + 2), 1000);
    o.hparams = h;
    obs.push_back(o);
  }
  TpeSettings s;
  for (const json& h : tpe_propose(space, obs, configs, 30, 2, 1, s)) {
    EXPECT_GE(h["lr"].get<double>(), 0.001);
    EXPECT_LE(h["lr"].get<double>(), 0.1);
    EXPECT_TRUE(h["batch_size"].is_number_integer()) << h.dump();
    EXPECT_GE(h["batch_size"].get<int>(), 8);
    EXPECT_LE(h["batch_size"].get<int>(), 64);
    EXPECT_GE(h["dropout"].get<double>(), 0.0);
    EXPECT_LE(h["dropout"].get<double>(), 0.5);
  }
}

// The CLI on the tiny tone task: 5 configs (2 random, then rounds of 2 and 1) x 2 arms x 1 seed.
class SweepTpeCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_ = new TempDir;
    make_tone_dataset(*shared_ / "data");
    write_tiny_space(*shared_ / "space.json", 400);
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }
  static std::vector<std::string> args(const fs::path& out, const std::string& jobs,
                                       const std::vector<std::string>& extra = {}) {
    auto a = tone_sweep_args(shared_->path(), out, "none,gd", {"--sampler", "tpe", "-j", jobs});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static TempDir* shared_;
};
TempDir* SweepTpeCli::shared_ = nullptr;

const std::vector<std::string> kRounds = {"--configs", "5",           "--tpe-startup",
                                          "2",         "--tpe-batch", "2"};

// (config_id, arm, seed, hparams) per trial_id.
std::vector<std::string> trial_list(const std::string& url) {
  std::vector<std::string> out;
  for (const auto& r : open_storage(url)->trials())
    out.push_back(fmt::format("{} {} {} {} {} {}", r.spec.trial_id, r.spec.config_id, r.spec.arm,
                              r.spec.seed, r.spec.hparams.dump(), r.status));
  return out;
}

TEST_F(SweepTpeCli, BadOptionsAreOneLineErrorsNamingTheOption) {
  TempDir out;
  auto check = [&](const std::vector<std::string>& extra, const std::string& must) {
    const auto r = run_cli(shell_args(args(out.path(), "1", extra)));
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.rfind("dkws: error: ", 0), 0u) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find(must), std::string::npos) << r.output;
  };
  check({}, "--configs N or --trials N is needed with the tpe sampler");
  check({"--configs", "4", "--tpe-batch", "0"}, "--tpe-batch: must be >= 1");
  check({"--configs", "4", "--tpe-startup", "9"}, "--tpe-startup 9: more than the sweep's 4");
  EXPECT_FALSE(fs::exists(out / "sweep.db")) << "a rejected command created a sweep";
  // The TPE options with another sampler would be silently ignored; they are refused instead.
  const auto r = run_cli(shell_args(tone_sweep_args(shared_->path(), out.path(), "none",
                                                    {"--configs", "2", "--tpe-batch", "3"})));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--tpe-batch: only with --sampler tpe (the sampler is 'random')"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(out / "sweep.db")) << "a rejected command created a sweep";
}

// A worker joined from elsewhere waits while a TPE round is still to come (the coordinator adds
// it when the previous round has finished), runs it, and exits once every round is in and done;
// with no coordinator adding anything it gives up after --round-wait seconds.
TEST_F(SweepTpeCli, ExternalWorkerWaitsForTheNextRound) {
  TempDir ref, out;
  // A complete 2-config sweep (round 0: config 1, round 1: config 2) gives the metadata and
  // trial specs to replay.
  const auto full =
      run_cli(shell_args(tone_sweep_args(shared_->path(), ref.path(), "none",
                                         {"--sampler", "tpe", "--configs", "2", "--tpe-startup",
                                          "1", "--tpe-batch", "1", "-j", "1"})));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  auto done = open_storage((ref / "sweep.db").string());
  const json meta = done->metadata();
  std::vector<dkws::sweep::TrialSpec> round0, round1;
  for (const auto& r : done->trials()) (r.spec.config_id == 1 ? round0 : round1).push_back(r.spec);
  ASSERT_EQ(round0.size(), 1u);
  ASSERT_EQ(round1.size(), 1u);

  const std::string url = (out / "sweep.db").string();
  open_storage(url)->create(meta, round0);
  const auto worker_args = [&](const std::string& wait) {
    return std::vector<std::string>{
        "sweep", "worker", "--storage", url, "--out", out.path().string(), "--round-wait", wait};
  };
  {
    BackgroundCli worker(worker_args("60"), out / "worker.txt");
    ASSERT_TRUE(wait_until(60, [&] { return open_storage(url)->counts().done == 1; }))
        << worker.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    EXPECT_FALSE(worker.wait(0)) << "the worker left before the last round:\n" << worker.output();
    open_storage(url)->add_trials(round1);  // what the coordinator does after round 0
    ASSERT_TRUE(worker.wait(60)) << worker.output();
    EXPECT_EQ(worker.exit_code, 0) << worker.output();
  }
  for (const auto& r : open_storage(url)->trials()) EXPECT_EQ(r.status, "done") << r.spec.trial_id;

  // Nothing more to come from anyone: a fresh sweep with round 0 only, and a short wait.
  TempDir alone;
  const std::string url2 = (alone / "sweep.db").string();
  open_storage(url2)->create(meta, round0);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_cli(shell_args(
      {"sweep", "worker", "--storage", url2, "--out", alone.path().string(), "--round-wait", "1"}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_NE(r.output.find("no new TPE round in 1 s"), std::string::npos) << r.output;
}

TEST_F(SweepTpeCli, RunsEveryRoundAndResumesToTheSameTrials) {
  TempDir a, b;
  // Uninterrupted, 2 workers.
  const auto full = run_cli(shell_args(args(a.path(), "2", kRounds)));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  const std::string url_a = (a / "sweep.db").string();
  const auto list_a = trial_list(url_a);
  ASSERT_EQ(list_a.size(), 10u);
  for (const auto& r : open_storage(url_a)->trials()) {
    EXPECT_EQ(r.status, "done") << r.spec.trial_id << ": " << r.error;
    EXPECT_EQ(r.spec.config_id, int(r.spec.trial_id + 1) / 2) << "config, then arm order";
  }
  const json t = json::parse(std::ifstream(a / "trials.json"));
  EXPECT_EQ(t["sweep"]["sampler"], "tpe");
  EXPECT_EQ(t["sweep"]["tpe"]["batch"], 2);
  ASSERT_EQ(t["trials"].size(), 10u);
  for (const auto& x : t["trials"])
    EXPECT_EQ(x["round"],
              tpe_round_of(x["config_id"].get<int>(), TpeSettings::from_json(t["sweep"]["tpe"])));
  const auto meta = open_storage(url_a)->metadata();
  EXPECT_EQ(meta["n_configs"], 5);
  EXPECT_EQ(meta["tpe"]["startup"], 2);
  // The report shows the rounds: a CSV column and configs per round in the page's header.
  const auto rep =
      run_cli(fmt::format("report '{}' --bootstrap 50 --permutations 50", a.path().string()));
  ASSERT_EQ(rep.exit_code, 0) << rep.output;
  const std::string csv = dkws::read_file(a / "report" / "trials.csv");
  EXPECT_NE(csv.find(",attempts,round,run_dir,"), std::string::npos) << csv.substr(0, 200);
  EXPECT_NE(dkws::read_file(a / "report" / "report.html").find("rounds (configs) 0: 2, 1: 2, 2: 1"),
            std::string::npos);

  // One worker, stopped with Ctrl-C once round 1 is running, then resumed with two.
  const std::string url_b = (b / "sweep.db").string();
  {
    BackgroundCli run(args(b.path(), "1", kRounds), b / "log1.txt");
    bool in_round_1 = false;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!in_round_1 && std::chrono::steady_clock::now() < end && !run.wait(0.02)) {
      try {
        for (const auto& r : open_storage(url_b)->trials())
          in_round_1 |= r.spec.config_id >= 3 && r.status == "running";
      } catch (const std::exception&) {
        // not created yet
      }
    }
    ASSERT_TRUE(in_round_1) << "round 1 never ran:\n" << run.output();
    ASSERT_EQ(kill(run.pid, SIGINT), 0);
    ASSERT_TRUE(run.wait(60));
    EXPECT_EQ(run.exit_code, 130) << run.output();
    EXPECT_LT(trial_list(url_b).size(), 10u) << "stopped after the last round was added";
  }
  const auto resumed = run_cli(shell_args(args(b.path(), "2", kRounds)));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(trial_list(url_b), list_a) << "the resumed sweep proposed different configs";
  // Different TPE settings on the same folder are refused.
  auto other = kRounds;
  other[5] = "3";
  const auto bad = run_cli(shell_args(args(b.path(), "2", other)));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("holds a different sweep (tpe is"), std::string::npos) << bad.output;
}

}  // namespace
