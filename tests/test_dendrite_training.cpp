// Dendrites in the training loop: the mechanism proof on XOR, frozen dendrites in the neuron phase,
// and gd / cc runs ending in a consistent, reloadable model.
#include <cmath>

#include "dendrite/dendrite_layer.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/model_file.hpp"
#include "dkws/nn/layers.hpp"
#include "dkws/train.hpp"
#include "test_util.hpp"
#include "toy_tasks.hpp"

namespace {

using namespace dkws;

using dkws::testing::xor_set;
using dkws::testing::xor_task;

// A linear model: it can represent XOR only with extra nonlinear units.
nn::Sequential linear_net(Rng& rng) {
  nn::Sequential net;
  net.add(nn::make_dense(2, 2));
  net.layer(0).init(rng);
  return net;
}

// rules "pb" warms up for 5 of the 25 batches of an epoch.
RunConfig xor_config(const std::string& mode, const std::string& rules = "classic") {
  nlohmann::json d = {{"mode", mode},
                      {"layers", "dense"},
                      {"max_dendrites", 4},
                      {"max_dendrite_tries", 4},
                      {"candidates", 4},
                      {"n_epochs_to_switch", 15},
                      {"p_epochs_to_switch", 5},
                      {"p_max_epochs", 40}};
  if (rules == "pb") d.update({{"rules", rules}, {"initial_correlation_batches", 5}});
  return parse_run_config(
      {{"train", {{"epochs", 600}, {"lr", 0.03}, {"batch_size", 16}}}, {"dendrites", d}}, "xor");
}

TrainResult train_xor(const std::string& mode, nn::Sequential& net, uint64_t seed = 9,
                      const std::string& rules = "classic") {
  Rng rng(seed);
  net = linear_net(rng);
  TrainOptions opt;
  opt.quiet = true;
  RunConfig cfg = xor_config(mode, rules);
  cfg.train.seed = seed;
  return train_model(net, cfg, xor_task(), opt);
}

class XorSeeds : public ::testing::TestWithParam<std::tuple<uint64_t, std::string>> {};

TEST_P(XorSeeds, CascadeCorrelationSolvesXorWhereTheBaselineCannot) {
  const auto [seed, rules] = GetParam();
  nn::Sequential base_net, cc_net;
  const TrainResult base = train_xor("none", base_net, seed, rules);
  const TrainResult cc = train_xor("cc", cc_net, seed, rules);
  EXPECT_LT(base.test_acc, 0.75) << "a linear model stays near chance on XOR";
  EXPECT_GE(cc.test_acc, 0.95);
  EXPECT_GE(dendrite::dendrite_count(cc_net), 1);
  // classic: the dendrite score rises during each dendrite phase. pb: the score is a running
  // average that starts from the warm-up's few batches, so it need not rise; a phase ends after
  // p_epochs_to_switch epochs without an improving one, and its first epoch always improves.
  int phases = 0;
  for (size_t i = 0; i < cc.history.size(); ++i) {
    if (cc.history[i].phase != "P" || (i > 0 && cc.history[i - 1].phase == "P")) continue;
    size_t end = i;
    while (end + 1 < cc.history.size() && cc.history[end + 1].phase == "P") ++end;
    ASSERT_GT(end, i) << "a dendrite phase needs more than one epoch";
    if (rules == "classic")
      EXPECT_GT(cc.history[end].dendrite_scores[0], cc.history[i].dendrite_scores[0])
          << "phase at epoch " << i + 1;
    else
      EXPECT_GE(end - i + 1, 6u) << "phase at epoch " << i + 1;
    ++phases;
  }
  EXPECT_GE(phases, 1);
  fprintf(stderr, "xor %s: none %.3f, cc %.3f with %d dendrites, %d dendrite phases\n",
          rules.c_str(), base.test_acc, cc.test_acc, dendrite::dendrite_count(cc_net), phases);
}

INSTANTIATE_TEST_SUITE_P(DendriteTraining, XorSeeds,
                         ::testing::Combine(::testing::Values(1u, 2u, 3u),
                                            ::testing::Values("classic", "pb")));

// A sweep stops a trial from TrainOptions::poll; it must be called in dendrite phases too, or a
// Ctrl-C waits for the phase to end.
TEST(DendriteTraining, PollRunsAfterEveryEpochOfBothPhasesAndCanAbandonTheRun) {
  Rng rng(9);
  nn::Sequential net = linear_net(rng);
  RunConfig cfg = xor_config("cc");
  cfg.train.seed = 9;
  struct Stop {};
  int polls = 0;
  TrainOptions opt;
  opt.quiet = true;
  opt.poll = [&polls] { ++polls; };
  const TrainResult r = train_model(net, cfg, xor_task(), opt);
  EXPECT_EQ(size_t(polls), r.history.size());
  size_t first_p = 0;
  while (first_p < r.history.size() && r.history[first_p].phase != "P") ++first_p;
  ASSERT_LT(first_p, r.history.size()) << "the run needs a dendrite phase";
  // Throwing from the first dendrite-phase epoch's poll ends the run right there.
  Rng rng2(9);
  net = linear_net(rng2);
  polls = 0;
  opt.poll = [&] {
    if (size_t(++polls) == first_p + 1) throw Stop{};
  };
  EXPECT_THROW(train_model(net, cfg, xor_task(), opt), Stop);
  EXPECT_EQ(size_t(polls), first_p + 1);
}

TEST(DendriteTraining, GdAddsDendritesAndTheModelReloadsBitExact) {
  nn::Sequential net;
  const TrainResult r = train_xor("gd", net);
  EXPECT_GE(r.test_acc, 0.9);
  ASSERT_FALSE(r.transitions.empty());
  dkws::testing::TempDir tmp;
  SavedModel m;
  m.config = xor_config("gd");
  m.classes = {"different", "same"};
  m.net = std::move(net);
  save_model(tmp / "m.json", m);
  SavedModel back = load_model(tmp / "m.json");
  const FeatureSet probe = xor_set(50, 77);
  nn::Tensor x({50, 2});
  x.data = probe.x;
  const std::vector<float> a = m.net.forward(x, {}).data;
  EXPECT_EQ(back.net.forward(x, {}).data, a);
  EXPECT_EQ(back.net.count_params(), m.net.count_params());
}

// classic, and pb without its update mode: installed dendrites are frozen in the neuron phase.
// pb's update mode (dendrites.train_dendrites) lets them learn there.
class NeuronPhaseDendrites : public ::testing::TestWithParam<std::tuple<std::string, bool, bool>> {
};

TEST_P(NeuronPhaseDendrites, InstalledDendritesLearnOnlyInPbsUpdateMode) {
  const auto [rules, train_dendrites, g_learns] = GetParam();
  Rng rng(4);
  nn::Sequential net = linear_net(rng);
  RunConfig cfg = xor_config("cc", rules);
  cfg.dendrites.train_dendrites = train_dendrites;
  dendrite::wrap_layers(net, cfg.dendrites);
  auto* layer = dendrite::wrapped_layers(net)[0];
  layer->add_dendrite(layer->base().clone_shape(rng));
  for (float& v : layer->output_weight(0).value.data) v = 0.5f;
  const auto g_before = layer->dendrite_layer(0).params()[0]->value.data;
  const auto f_before = layer->base().params()[0]->value.data;
  cfg.train.epochs = 5;
  cfg.dendrites.n_epochs_to_switch = 1000;
  // train_model wraps nothing new (already wrapped) and sets the neuron phase itself.
  TrainOptions opt;
  opt.quiet = true;
  train_model(net, cfg, xor_task(), opt);
  layer = dendrite::wrapped_layers(net)[0];
  if (g_learns)
    EXPECT_NE(layer->dendrite_layer(0).params()[0]->value.data, g_before);
  else
    EXPECT_EQ(layer->dendrite_layer(0).params()[0]->value.data, g_before);
  EXPECT_NE(layer->base().params()[0]->value.data, f_before);
}

INSTANTIATE_TEST_SUITE_P(DendriteTraining, NeuronPhaseDendrites,
                         ::testing::Values(std::make_tuple("classic", true, false),
                                           std::make_tuple("pb", false, false),
                                           std::make_tuple("pb", true, true)));

}  // namespace

namespace {

struct Killed {};

// Kill at several epochs, including inside the schedule of dendrite phases: a resumed run must end
// exactly like an uninterrupted one. Under pb the run also searches rates (plateau scheduler), and
// kills land right after reloads too.
class KilledRun : public ::testing::TestWithParam<std::string> {};

TEST_P(KilledRun, ResumesToTheSameResult) {
  // "pb-fixed": the pb rules under fixed switching (a dendrite every 20 epochs, 2 in all).
  const bool fixed = GetParam() == "pb-fixed";
  const std::string rules = fixed ? "pb" : GetParam();
  const TaskData task = xor_task();
  RunConfig cfg = xor_config("cc", rules);
  cfg.train.epochs = 200;
  if (rules == "pb") cfg.train.scheduler = "plateau", cfg.train.plateau_patience = 2;
  if (fixed) {
    cfg.dendrites.switch_mode = "fixed";
    cfg.dendrites.switch_every = 20;
    cfg.dendrites.max_dendrites = 2;
  }
  auto fresh_net = [] {
    Rng rng(9);
    return linear_net(rng);
  };
  nn::Sequential reference = fresh_net();
  TrainOptions quiet;
  quiet.quiet = true;
  std::vector<int> epochs;  // the epoch counter after each saved epoch
  quiet.after_epoch = [&epochs](int epoch) { epochs.push_back(epoch); };
  const TrainResult want = train_model(reference, cfg, task, quiet);
  ASSERT_FALSE(want.transitions.empty());

  Rng pick(123);
  std::vector<size_t> kills;  // kill after this many saved epochs
  for (int attempt = 0; attempt < 3; ++attempt)
    kills.push_back(1 + size_t(pick.below(uint64_t(epochs.size() - 1))));
  if (rules == "pb" && !fixed) {
    int searches = 0;
    for (const auto& t : want.transitions) searches += t.at("action") == "rate search";
    ASSERT_GE(searches, 2) << "the run should search rates";
    std::vector<size_t> after_reload;
    for (size_t k = 1; k + 1 < epochs.size(); ++k)
      if (epochs[k] <= epochs[k - 1]) after_reload.push_back(k + 1);
    ASSERT_GE(after_reload.size(), 2u);
    kills.push_back(after_reload.front());
    kills.push_back(after_reload[after_reload.size() / 2]);
  }
  for (const size_t kill_after : kills) {
    dkws::testing::TempDir tmp;
    TrainOptions opt;
    opt.quiet = true;
    opt.state_path = tmp / "state.json";
    size_t calls = 0;
    opt.after_epoch = [&calls, kill_after](int) {
      if (++calls >= kill_after) throw Killed{};
    };
    nn::Sequential net = fresh_net();
    EXPECT_THROW(train_model(net, cfg, task, opt), Killed);
    ASSERT_TRUE(std::filesystem::exists(opt.state_path));
    opt.after_epoch = nullptr;
    nn::Sequential resumed = fresh_net();
    const TrainResult got = train_model(resumed, cfg, task, opt);
    EXPECT_EQ(got.test_acc, want.test_acc) << "killed after " << kill_after;
    EXPECT_EQ(got.best_epoch, want.best_epoch);
    EXPECT_EQ(got.epochs_run, want.epochs_run);
    EXPECT_EQ(got.epochs_trained, want.epochs_trained);
    EXPECT_EQ(got.transitions, want.transitions);
    ASSERT_EQ(got.history.size(), want.history.size());
    for (size_t i = 0; i < got.history.size(); ++i) {
      EXPECT_EQ(got.history[i].train_loss, want.history[i].train_loss) << i;
      EXPECT_EQ(got.history[i].dendrite_scores, want.history[i].dendrite_scores) << i;
    }
    EXPECT_EQ(params_to_json(resumed).dump(), params_to_json(reference).dump());
    SavedModel final_file = load_model(opt.state_path);
    EXPECT_TRUE(final_file.training_state.is_null()) << "complete once done";
    EXPECT_EQ(params_to_json(final_file.net).dump(), params_to_json(reference).dump());
  }
}

INSTANTIATE_TEST_SUITE_P(DendriteTraining, KilledRun,
                         ::testing::Values("classic", "pb", "pb-fixed"));

TEST(DendriteTraining, StateFromAnotherConfigIsRefused) {
  dkws::testing::TempDir tmp;
  RunConfig cfg = xor_config("gd");
  cfg.train.epochs = 3;
  TrainOptions opt;
  opt.quiet = true;
  opt.state_path = tmp / "state.json";
  opt.after_epoch = [](int) { throw Killed{}; };
  Rng rng(1);
  nn::Sequential net = linear_net(rng);
  EXPECT_THROW(train_model(net, cfg, xor_task(), opt), Killed);
  cfg.train.lr = 0.5;
  opt.after_epoch = nullptr;
  EXPECT_THROW(train_model(net, cfg, xor_task(), opt), Error);
}

}  // namespace
