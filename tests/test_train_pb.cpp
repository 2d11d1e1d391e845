// The pb rules in the training loop (XOR with a linear model, as in test_dendrite_training.cpp):
// reloads rewind the epoch counter, e-bar is frozen through a dendrite phase at the best
// checkpoint's value, the rate search restarts from the post-install checkpoint, the dendrite
// phase's rate decays, and the config keys.
#include <cmath>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"
#include "dkws/nn/layers.hpp"
#include "dkws/train.hpp"
#include "test_util.hpp"
#include "toy_tasks.hpp"

namespace {

using namespace dkws;
using dkws::testing::xor_task;

RunConfig pb_config(const std::string& mode, nlohmann::json train = nlohmann::json::object()) {
  nlohmann::json t = {{"epochs", 600}, {"lr", 0.03}, {"batch_size", 16}, {"seed", 3}};
  t.update(train);
  return parse_run_config({{"train", t},
                           {"dendrites",
                            {{"mode", mode},
                             {"rules", "pb"},
                             {"layers", "dense"},
                             {"max_dendrites", 3},
                             {"max_dendrite_tries", 2},
                             {"candidates", 2},
                             {"n_epochs_to_switch", 10},
                             {"p_epochs_to_switch", 4},
                             {"p_max_epochs", 30},
                             {"initial_correlation_batches", 5}}}},
                          "xor");
}

TrainResult train(const RunConfig& cfg, nn::Sequential& net, TrainOptions opt = {}) {
  Rng rng(cfg.train.seed);
  net = nn::Sequential();
  net.add(nn::make_dense(2, 2));
  net.layer(0).init(rng);
  opt.quiet = true;
  return train_model(net, cfg, xor_task(), opt);
}

TEST(TrainPb, ReloadsRewindTheEpochCounterAndDiscardedEpochsDoNotCount) {
  for (const std::string mode : {"cc", "gd"}) {
    SCOPED_TRACE(mode);
    RunConfig cfg = pb_config(mode, {{"epochs", 60}});
    nn::Sequential net;
    const TrainResult r = train(cfg, net);
    int discarded = 0, reloads = 0;
    for (const auto& t : r.transitions)
      if (t.contains("resumed_at")) {
        discarded += t.at("epoch").get<int>() - t.at("resumed_at").get<int>();
        ++reloads;
      }
    ASSERT_GE(reloads, 1);
    EXPECT_GT(discarded, 0);
    EXPECT_EQ(r.epochs_trained, r.epochs_run + discarded);
    EXPECT_LE(r.epochs_run, 60);
    EXPECT_GT(r.epochs_trained, 60) << "the budget counts kept epochs only";
    // The history is the kept run's: epochs 1, 2, ..., epochs_run with nothing discarded in it.
    ASSERT_EQ(r.history.size(), size_t(r.epochs_run));
    for (size_t i = 0; i < r.history.size(); ++i) ASSERT_EQ(r.history[i].epoch, int(i) + 1);
  }
}

TEST(TrainPb, ErrorMeanIsFrozenInTheDendritePhaseAtTheBestCheckpointsValue) {
  RunConfig cfg = pb_config("cc");
  nn::Sequential net;
  struct Seen {
    int epoch;  // 0: a dendrite-phase epoch
    std::vector<double> error_mean;
  };
  std::vector<Seen> seen;
  auto layer = [&net] { return dendrite::wrapped_layers(net).at(0); };
  TrainOptions opt;
  opt.after_epoch = [&](int epoch) { seen.push_back({epoch, layer()->error_mean()}); };
  opt.poll = [&] {
    if (layer()->has_candidates()) seen.push_back({0, layer()->error_mean()});
  };
  const TrainResult r = train(cfg, net, opt);
  const auto& first_switch = r.transitions.at(0);
  const int best_epoch = first_switch.at("resumed_at");
  const int switched_at = first_switch.at("epoch");
  ASSERT_LT(best_epoch, switched_at - 1);
  size_t p = 0;
  while (p < seen.size() && seen[p].epoch != 0) ++p;
  ASSERT_LT(p, seen.size()) << "no dendrite phase";
  // after_epoch of the switching epoch itself comes after its dendrite phase.
  ASSERT_EQ(seen[p - 1].epoch, switched_at - 1);
  std::vector<double> at_best;
  for (size_t i = 0; i < p; ++i)
    if (seen[i].epoch == best_epoch) at_best = seen[i].error_mean;
  ASSERT_FALSE(at_best.empty());
  EXPECT_NE(at_best, std::vector<double>(at_best.size(), 0.0)) << "e-bar did follow the errors";
  int phase_epochs = 0;
  for (size_t i = p; i < seen.size() && seen[i].epoch == 0; ++i, ++phase_epochs)
    EXPECT_EQ(seen[i].error_mean, at_best) << "dendrite-phase epoch " << phase_epochs + 1;
  EXPECT_GE(phase_epochs, 2);
  // The discarded epochs after the best moved e-bar on; the reload put it back.
  EXPECT_NE(seen[p - 1].error_mean, at_best);
}

TEST(TrainPb, TheRateSearchRestartsFromThePostInstallCheckpointOneStepLower) {
  RunConfig cfg = pb_config("cc", {{"scheduler", "plateau"}, {"plateau_patience", 2}});
  nn::Sequential net;
  const TrainResult r = train(cfg, net);
  int installed_at = -1, lower = 0, kept = 0;
  for (const auto& t : r.transitions) {
    if (t.at("action") == "restructure") installed_at = t.at("installed_at");
    if (t.at("action") != "rate search") continue;
    const std::string reason = t.at("reason");
    if (reason.rfind("rate search: restart", 0) == 0) {
      ++lower;
      EXPECT_EQ(t.at("resumed_at").get<int>(), installed_at) << t.dump();
      const int steps = reason.at(std::string("rate search: restart ").size()) - '0';
      EXPECT_FLOAT_EQ(t.at("lr").get<float>(), float(0.03 * std::pow(0.1, steps))) << t.dump();
    } else {
      ++kept;
      EXPECT_GT(t.at("resumed_at").get<int>(), installed_at) << "a run goes on from where it was";
    }
  }
  EXPECT_GE(lower, 1);
  EXPECT_GE(kept, 1);
}

TEST(TrainPb, TheDendritePhasesRateDecaysOnTheFlatValidationScore) {
  RunConfig cfg = pb_config("cc", {{"scheduler", "plateau"}, {"plateau_patience", 1}});
  nn::Sequential net;
  const TrainResult r = train(cfg, net);
  bool decayed = false;
  for (size_t i = 1; i < r.history.size(); ++i)
    if (r.history[i].phase == "P" && r.history[i - 1].phase == "P")
      decayed = decayed || r.history[i].lr < r.history[i - 1].lr;
  EXPECT_TRUE(decayed);
}

TEST(TrainPb, WarmUpMustEndInsideTheFirstEpoch) {
  nn::Sequential net;
  RunConfig cfg = pb_config("cc", {{"epochs", 1}});
  cfg.dendrites.initial_correlation_batches = 25;  // 400 rows / 16 = 25 batches per epoch
  try {
    train(cfg, net);
    FAIL() << "accepted a warm-up as long as an epoch";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dendrites.initial_correlation_batches"),
              std::string::npos)
        << e.what();
  }
  cfg.dendrites.initial_correlation_batches = 24;
  EXPECT_NO_THROW(train(cfg, net));
  cfg.dendrites.initial_correlation_batches = 25;
  cfg.dendrites.mode = "gd";  // no dendrite phase, no warm-up
  EXPECT_NO_THROW(train(cfg, net));
}

std::string config_error(const nlohmann::json& j) {
  try {
    parse_run_config(j, "c.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TrainPb, ConfigKeys) {
  EXPECT_EQ(parse_run_config({{"dendrites", {{"rules", "pb"}}}}, "c").dendrites.activation,
            "sigmoid")
      << "pb's dendrites default to a sigmoid";
  EXPECT_EQ(parse_run_config({{"dendrites", {{"rules", "pb"}, {"activation", "tanh"}}}}, "c")
                .dendrites.activation,
            "tanh");
  EXPECT_EQ(parse_run_config(nlohmann::json::object(), "c").dendrites.activation, "tanh");
  RunConfig c = parse_run_config(nlohmann::json::object(), "c");
  apply_override(c, "dendrites.rules=pb");
  EXPECT_EQ(c.dendrites.activation, "sigmoid") << "an override takes the rules' defaults too";
  EXPECT_EQ(parse_run_config({{"dendrites", {{"rules", "pb"}, {"max_dendrite_tries", 0}}}}, "c")
                .dendrites.max_dendrite_tries,
            0);
  EXPECT_NE(config_error({{"dendrites", {{"max_dendrite_tries", 0}}}}).find("max_dendrite_tries"),
            std::string::npos);
  EXPECT_NE(config_error({{"dendrites", {{"rules", "fast"}}}}).find("dendrites.rules"),
            std::string::npos);
  EXPECT_NE(config_error({{"dendrites", {{"correlation_reduce", "max"}}}})
                .find("dendrites.correlation_reduce"),
            std::string::npos);
  EXPECT_NE(config_error({{"dendrites", {{"initial_correlation_batches", -1}}}})
                .find("dendrites.initial_correlation_batches"),
            std::string::npos);
}

}  // namespace
