// Search spaces: the paper's file parses; each kind of bad input is rejected naming its key; the
// grid enumerates exactly; random sampling is deterministic by seed; matched arms share hparams.
#include <set>

#include "dkws/error.hpp"
#include "dkws/sweep.hpp"
#include "test_util.hpp"

namespace {

using namespace dkws;
using namespace dkws::sweep;
using nlohmann::json;

json small_space() {
  return {{"base", {{"model", {{"family", "audio_classifier"}}}, {"train", {{"epochs", 5}}}}},
          {"params",
           {{"width", {0.25, 0.5}},
            {"activation", {{"choices", {"tanh", "relu", "sigmoid"}}}},
            {"lr", {{"range", {0.001, 0.01}}, {"log", true}, {"steps", 2}}}}}};
}

// The error message of parsing `j`, or "" when it parses.
std::string error_of(const json& j) {
  try {
    parse_space(j, "space.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SweepSpace, PaperSpaceParsesWithEveryHyperparameter) {
  const SearchSpace s = load_space(dkws::testing::source_dir() / "configs" / "sweep_paper.json");
  std::set<std::string> names;
  for (const auto& p : s.params) names.insert(p.name);
  for (const char* n :
       {"dropout", "num_conv", "num_linear", "width", "noise", "n_epochs_to_switch", "lr", "growth",
        "max_dendrites", "thresholds", "init_multiplier", "activation", "dendrite_layers"})
    EXPECT_TRUE(names.count(n)) << n;
  // 3*3*2*4*3*3*3*6*3*3*2*3*2 points.
  EXPECT_EQ(s.grid_size(), size_t(3 * 3 * 2 * 4 * 3 * 3 * 3 * 6 * 3 * 3 * 2 * 3 * 2));
  const RunConfig c = s.config_for({{"width", 2.0}, {"dendrite_layers", "dense"}, {"growth", 5}});
  EXPECT_EQ(c.model.family, "audio_classifier");
  EXPECT_DOUBLE_EQ(c.model.width, 2.0);
  EXPECT_EQ(c.model.growth, 5);
  EXPECT_EQ(c.dendrites.layers, "dense");
  EXPECT_EQ(c.dendrites.rules, "pb") << "the paper's space follows Perforated AI's rules";
}

TEST(SweepSpace, EachInvalidKindIsRejectedNamingTheKey) {
  auto with = [](const std::string& name, const json& v) {
    json j = small_space();
    j["params"][name] = v;
    return j;
  };
  json top = small_space();
  top["sampler"] = "tpe";
  EXPECT_EQ(error_of(top),
            "space.json: unknown key 'sampler' (expected description, base, params)");
  EXPECT_EQ(error_of(with("widht", {1.0})), "space.json: params.widht: unknown hyperparameter");
  EXPECT_EQ(error_of(with("dropout", json::array())),
            "space.json: params.dropout: empty choice list");
  EXPECT_EQ(error_of(with("dropout", {{"choices", json::array()}})),
            "space.json: params.dropout: empty choice list");
  EXPECT_EQ(error_of(with("lr", {{"range", {0.01, 0.001}}})),
            "space.json: params.lr.range: low must be below high");
  EXPECT_EQ(error_of(with("lr", {{"range", {0.0, 0.01}}, {"log", true}})),
            "space.json: params.lr.range: log needs low > 0");
  EXPECT_NE(
      error_of(with("lr", {{"range", {"a", 1}}})).find("params.lr.range: expected [low, high]"),
      std::string::npos);
  EXPECT_NE(
      error_of(with("lr", {{"choices", {0.1}}, {"range", {0.1, 0.2}}})).find("exactly one of"),
      std::string::npos);
  EXPECT_NE(error_of(with("lr", {{"choise", {0.1}}})).find("params.lr: unknown key 'choise'"),
            std::string::npos);
  // Values the run config rejects: wrong type and out of range, named with the run-config key.
  const std::string type = error_of(with("dropout", {0.1, "high"}));
  EXPECT_NE(type.find("params.dropout: value \"high\" rejected"), std::string::npos) << type;
  EXPECT_NE(type.find("model.dropout"), std::string::npos) << type;
  const std::string range = error_of(with("num_conv", {1, 4}));
  EXPECT_NE(range.find("params.num_conv: value 4 rejected"), std::string::npos) << range;
  EXPECT_NE(error_of(with("activation", {"swish"})).find("params.activation"), std::string::npos);
  // The sweep owns the arm and the seed.
  EXPECT_NE(
      error_of(with("dendrites.mode", {"gd"})).find("params.dendrites.mode: set by the sweep"),
      std::string::npos);
  // A bad base is named too.
  json base = small_space();
  base["base"]["train"]["epoch"] = 3;
  EXPECT_EQ(error_of(base), "space.json: base: unknown key 'train.epoch'");
  json no_params = small_space();
  no_params.erase("params");
  EXPECT_NE(error_of(no_params).find("space.json: params:"), std::string::npos);
  EXPECT_EQ(error_of(small_space()), "");
}

// A number too large for a double is nlohmann's out_of_range, not a parse_error (found by
// fuzzing): the file is named like any other invalid JSON.
TEST(SweepSpace, NumberTooLargeForADoubleIsNamed) {
  dkws::testing::TempDir tmp;
  dkws::testing::write_file(tmp / "space.json", R"({"params": {"lr": [1e999]}})");
  try {
    load_space(tmp / "space.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("space.json: invalid JSON"), std::string::npos)
        << e.what();
  }
}

TEST(SweepSpace, GridEnumeratesEveryPointExactlyOnce) {
  const SearchSpace s = parse_space(small_space(), "t");
  ASSERT_EQ(s.grid_size(), 2u * 3u * 2u);
  const auto all = sample_configs(s, "grid", 0, 1);
  ASSERT_EQ(all.size(), 12u);
  std::set<std::string> seen;
  for (const auto& h : all) EXPECT_TRUE(seen.insert(h.dump()).second) << h.dump();
  std::set<double> lrs;
  for (const auto& h : all) lrs.insert(h["lr"].get<double>());
  ASSERT_EQ(lrs.size(), 2u);
  EXPECT_NEAR(*lrs.begin(), 0.001, 1e-12);
  EXPECT_NEAR(*lrs.rbegin(), 0.01, 1e-12);
  // Keys are sorted (activation, lr, width), last fastest: points 0 and 1 differ only in width.
  EXPECT_EQ(all[0]["lr"], all[1]["lr"]);
  EXPECT_EQ(all[0]["activation"], all[1]["activation"]);
  EXPECT_NE(all[0]["width"], all[1]["width"]);
  EXPECT_EQ(all[0]["lr"].get<double>(), 0.001) << "grid ends must be exact";
  EXPECT_EQ(sample_configs(s, "grid", 5, 1).size(), 5u);
  EXPECT_THROW(sample_configs(s, "grid", 13, 1), Error);
  json no_steps = small_space();
  no_steps["params"]["lr"] = {{"range", {0.001, 0.01}}};
  EXPECT_THROW(sample_configs(parse_space(no_steps, "t"), "grid", 0, 1), Error);
}

TEST(SweepSpace, RandomIsDeterministicBySeedAndStaysInTheSpace) {
  const SearchSpace s = parse_space(small_space(), "t");
  const auto a = sample_configs(s, "random", 20, 7);
  EXPECT_EQ(a, sample_configs(s, "random", 20, 7));
  EXPECT_NE(a, sample_configs(s, "random", 20, 8));
  const auto prefix = sample_configs(s, "random", 5, 7);
  EXPECT_EQ(prefix, std::vector<json>(a.begin(), a.begin() + 5)) << "config i depends on n";
  std::set<std::string> activations;
  for (const auto& h : a) {
    const double lr = h["lr"].get<double>();
    EXPECT_GE(lr, 0.001);
    EXPECT_LE(lr, 0.01);
    EXPECT_TRUE(h["width"] == 0.25 || h["width"] == 0.5);
    activations.insert(h["activation"].get<std::string>());
  }
  EXPECT_EQ(activations.size(), 3u) << "20 draws never hit every choice";
  EXPECT_THROW(sample_configs(s, "tpe", 3, 1), Error);
}

TEST(SweepSpace, MatchedArmsShareHyperparametersPerConfig) {
  const SearchSpace s = parse_space(small_space(), "t");
  const auto configs = sample_configs(s, "random", 4, 3);
  const auto arms = parse_arms("none,restart,gd,cc");
  const auto trials = make_trials(configs, arms, 2);
  ASSERT_EQ(trials.size(), 4u * 4u * 2u);
  std::map<int, json> hp;
  std::map<int, std::set<std::pair<std::string, int>>> cells;
  std::set<int64_t> ids;
  const json meta = {{"task", "folder"}, {"data_dir", "/data"}};
  for (const auto& t : trials) {
    EXPECT_TRUE(ids.insert(t.trial_id).second);
    if (!hp.count(t.config_id)) hp[t.config_id] = t.hparams;
    EXPECT_EQ(hp[t.config_id], t.hparams) << "config " << t.config_id << " arm " << t.arm;
    cells[t.config_id].insert({t.arm, t.seed});
    const RunConfig c = trial_config(s, meta, t);
    EXPECT_EQ(c.train.seed, uint64_t(t.seed));
    EXPECT_EQ(c.dendrites.restart_only, t.arm == "restart");
    EXPECT_EQ(c.dendrites.mode, t.arm == "restart" ? "none" : t.arm);
    EXPECT_DOUBLE_EQ(c.model.width, t.hparams["width"].get<double>());
    EXPECT_EQ(c.task, "folder");
  }
  for (const auto& [id, set] : cells) EXPECT_EQ(set.size(), 8u) << "config " << id;
  EXPECT_THROW(parse_arms("none,tpe"), Error);
  EXPECT_THROW(parse_arms("gd,gd"), Error);
}

// A sweep keeps the paper's protocol, early stopping in the none arm, although a single `dkws
// train` run now trains every epoch; a space can still choose otherwise in its base.
TEST(SweepSpace, TrialsStopEarlyUnlessTheBaseSaysOtherwise) {
  EXPECT_FALSE(parse_run_config(json::object(), "defaults").train.early_stopping);
  const SearchSpace s = parse_space(small_space(), "space.json");
  EXPECT_TRUE(s.config_for({{"width", 0.5}}).train.early_stopping);
  json off = small_space();
  off["base"]["train"]["early_stopping"] = false;
  EXPECT_FALSE(parse_space(off, "space.json").config_for({{"width", 0.5}}).train.early_stopping);
  json no_train = small_space();
  no_train["base"].erase("train");
  EXPECT_TRUE(parse_space(no_train, "space.json").config_for({}).train.early_stopping);
}

}  // namespace
