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

TaskData xor_task() {
  TaskData t;
  t.name = "xor";
  t.classes = {"different", "same"};
  t.train = xor_set(400, 1);
  t.val = xor_set(200, 2);
  t.test = xor_set(400, 3);
  return t;
}

// A linear model: it can represent XOR only with extra nonlinear units.
nn::Sequential linear_net(Rng& rng) {
  nn::Sequential net;
  net.add(nn::make_dense(2, 2));
  net.layer(0).init(rng);
  return net;
}

RunConfig xor_config(const std::string& mode) {
  return parse_run_config({{"train", {{"epochs", 600}, {"lr", 0.03}, {"batch_size", 16}}},
                           {"dendrites",
                            {{"mode", mode},
                             {"layers", "dense"},
                             {"max_dendrites", 4},
                             {"max_dendrite_tries", 4},
                             {"candidates", 4},
                             {"n_epochs_to_switch", 15},
                             {"p_epochs_to_switch", 5},
                             {"p_max_epochs", 40}}}},
                          "xor");
}

TrainResult train_xor(const std::string& mode, nn::Sequential& net, uint64_t seed = 9) {
  Rng rng(seed);
  net = linear_net(rng);
  TrainOptions opt;
  opt.quiet = true;
  RunConfig cfg = xor_config(mode);
  cfg.train.seed = seed;
  return train_model(net, cfg, xor_task(), opt);
}

class XorSeeds : public ::testing::TestWithParam<uint64_t> {};

TEST_P(XorSeeds, CascadeCorrelationSolvesXorWhereTheBaselineCannot) {
  nn::Sequential base_net, cc_net;
  const TrainResult base = train_xor("none", base_net, GetParam());
  const TrainResult cc = train_xor("cc", cc_net, GetParam());
  EXPECT_LT(base.test_acc, 0.75) << "a linear model stays near chance on XOR";
  EXPECT_GE(cc.test_acc, 0.95);
  EXPECT_GE(dendrite::dendrite_count(cc_net), 1);
  // The dendrite score rises during each dendrite phase.
  int phases = 0;
  for (size_t i = 0; i < cc.history.size(); ++i) {
    if (cc.history[i].phase != "P" || (i > 0 && cc.history[i - 1].phase == "P")) continue;
    size_t end = i;
    while (end + 1 < cc.history.size() && cc.history[end + 1].phase == "P") ++end;
    ASSERT_GT(end, i) << "a dendrite phase needs more than one epoch";
    EXPECT_GT(cc.history[end].dendrite_scores[0], cc.history[i].dendrite_scores[0])
        << "phase at epoch " << i + 1;
    ++phases;
  }
  EXPECT_GE(phases, 1);
  fprintf(stderr, "xor: none %.3f, cc %.3f with %d dendrites, %d dendrite phases\n", base.test_acc,
          cc.test_acc, dendrite::dendrite_count(cc_net), phases);
}

INSTANTIATE_TEST_SUITE_P(DendriteTraining, XorSeeds, ::testing::Values(1u, 2u, 3u));

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

TEST(DendriteTraining, InstalledDendritesNeverChangeInTheNeuronPhase) {
  Rng rng(4);
  nn::Sequential net = linear_net(rng);
  RunConfig cfg = xor_config("cc");
  dendrite::wrap_layers(net, cfg.dendrites);
  auto* layer = dendrite::wrapped_layers(net)[0];
  layer->add_dendrite(layer->base().clone_shape(rng));
  for (nn::Param* p : layer->output_weight(0).value.data.empty()
                          ? std::vector<nn::Param*>{}
                          : std::vector<nn::Param*>{&layer->output_weight(0)})
    for (float& v : p->value.data) v = 0.5f;
  const auto g_before = layer->dendrite_layer(0).params()[0]->value.data;
  const auto f_before = layer->base().params()[0]->value.data;
  cfg.train.epochs = 5;
  cfg.dendrites.n_epochs_to_switch = 1000;
  // train_model wraps nothing new (already wrapped) and sets the neuron phase itself.
  TrainOptions opt;
  opt.quiet = true;
  train_model(net, cfg, xor_task(), opt);
  layer = dendrite::wrapped_layers(net)[0];
  EXPECT_EQ(layer->dendrite_layer(0).params()[0]->value.data, g_before);
  EXPECT_NE(layer->base().params()[0]->value.data, f_before);
}

}  // namespace

namespace {

struct Killed {};

// Kill at several epochs, including inside the schedule of dendrite phases: a resumed run must end
// exactly like an uninterrupted one.
TEST(DendriteTraining, KilledRunResumesToTheSameResult) {
  const TaskData task = xor_task();
  RunConfig cfg = xor_config("cc");
  cfg.train.epochs = 200;
  auto fresh_net = [] {
    Rng rng(9);
    return linear_net(rng);
  };
  nn::Sequential reference = fresh_net();
  TrainOptions quiet;
  quiet.quiet = true;
  const TrainResult want = train_model(reference, cfg, task, quiet);
  ASSERT_FALSE(want.transitions.empty());

  Rng pick(123);
  for (int attempt = 0; attempt < 3; ++attempt) {
    dkws::testing::TempDir tmp;
    TrainOptions opt;
    opt.quiet = true;
    opt.state_path = tmp / "state.json";
    const int kill_at = 1 + int(pick.below(uint64_t(want.epochs_run - 1)));
    opt.after_epoch = [kill_at](int epoch) {
      if (epoch >= kill_at) throw Killed{};
    };
    nn::Sequential net = fresh_net();
    EXPECT_THROW(train_model(net, cfg, task, opt), Killed);
    ASSERT_TRUE(std::filesystem::exists(opt.state_path));
    opt.after_epoch = nullptr;
    nn::Sequential resumed = fresh_net();
    const TrainResult got = train_model(resumed, cfg, task, opt);
    EXPECT_EQ(got.test_acc, want.test_acc) << "killed at " << kill_at;
    EXPECT_EQ(got.best_epoch, want.best_epoch);
    EXPECT_EQ(got.epochs_run, want.epochs_run);
    EXPECT_EQ(got.transitions, want.transitions);
    EXPECT_EQ(params_to_json(resumed).dump(), params_to_json(reference).dump());
    SavedModel final_file = load_model(opt.state_path);
    EXPECT_TRUE(final_file.training_state.is_null()) << "complete once done";
    EXPECT_EQ(params_to_json(final_file.net).dump(), params_to_json(reference).dump());
  }
}

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
