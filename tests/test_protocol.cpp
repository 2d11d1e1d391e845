// The training protocols of issue 13 on XOR with a linear model (as test_train_pb.cpp): fixed
// switching gives every arm the same epochs, dendrite-phase epochs have their own budget under
// train.until_complete, the total cap, the classic candidates' best-epoch install, and which
// layers each dendrites.layers placement wraps.
#include "dendrite/dendrite_layer.hpp"
#include "dkws/dendrite.hpp"
#include "dkws/error.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/layers.hpp"
#include "dkws/train.hpp"
#include "test_util.hpp"
#include "toy_tasks.hpp"

namespace {

using namespace dkws;
using dkws::testing::random_tensor;
using dkws::testing::xor_task;
using nlohmann::json;

RunConfig xor_config(const std::string& arm, const std::string& rules, json train, json dendrites) {
  json t = {{"epochs", 100}, {"lr", 0.03}, {"batch_size", 16}, {"seed", 3}};
  t.update(train);
  json d = {{"mode", arm == "restart" ? "none" : arm},
            {"restart_only", arm == "restart"},
            {"rules", rules},
            {"layers", "dense"},
            {"candidates", 2},
            {"p_epochs_to_switch", 3},
            {"p_max_epochs", 6},
            {"initial_correlation_batches", 5}};
  d.update(dendrites);
  return parse_run_config({{"train", t}, {"dendrites", d}}, "xor");
}

TrainResult train_xor(const RunConfig& cfg, nn::Sequential& net) {
  Rng rng(cfg.train.seed);
  net = nn::Sequential();
  net.add(nn::make_dense(2, 2));
  net.layer(0).init(rng);
  TrainOptions opt;
  opt.quiet = true;
  return train_model(net, cfg, xor_task(), opt);
}

int count_phase(const TrainResult& r, const std::string& phase) {
  int n = 0;
  for (const EpochRecord& e : r.history) n += e.phase == phase;
  return n;
}

class FixedSwitching : public ::testing::TestWithParam<std::string> {};

TEST_P(FixedSwitching, EveryArmTrainsTheSameNeuronEpochsAndDendriticArmsKeepTheirDendrites) {
  const std::string rules = GetParam();
  // The sweep's default early stopping must not shorten the none arm under fixed switching.
  const json train = {{"early_stopping", true}, {"epochs", 40}};
  const json fixed = {{"switch_mode", "fixed"}, {"switch_every", 6}, {"max_dendrites", 2}};
  for (const std::string arm : {"none", "restart", "gd", "cc"}) {
    SCOPED_TRACE(rules + " " + arm);
    nn::Sequential net;
    const TrainResult r = train_xor(xor_config(arm, rules, train, fixed), net);
    EXPECT_EQ(count_phase(r, "N"), 18) << "6 epochs x (2 switches + 1)";
    EXPECT_EQ(r.epochs_trained, r.epochs_run) << "nothing discarded";
    int restructures = 0;
    for (const auto& t : r.transitions) {
      if (t.at("action") != "restructure") continue;
      ++restructures;
      int neuron_epochs_before = 0;  // the switch comes after every 6th neuron-phase epoch
      for (const EpochRecord& e : r.history)
        neuron_epochs_before += e.phase == "N" && e.epoch <= t.at("epoch").get<int>();
      EXPECT_EQ(neuron_epochs_before, 6 * restructures) << t.dump();
    }
    EXPECT_EQ(restructures, arm == "none" ? 0 : 2);
    const int dendrites = arm == "gd" || arm == "cc" ? dendrite::dendrite_count(net) : 0;
    EXPECT_EQ(dendrites, arm == "gd" || arm == "cc" ? 2 : 0) << "the final model keeps both";
    EXPECT_EQ(count_phase(r, "P") > 0, arm == "cc");
    // The kept checkpoint is from the final cycle: after the last switch.
    EXPECT_GT(r.best_epoch, arm == "none" ? 0 : r.epochs_run - 6);
  }
}

INSTANTIATE_TEST_SUITE_P(Protocol, FixedSwitching, ::testing::Values("classic", "pb"));

TEST(Protocol, FixedScheduleLongerThanTheEpochCapIsRefused) {
  try {
    xor_config("gd", "classic", {{"epochs", 20}},
               {{"switch_mode", "fixed"}, {"switch_every", 10}, {"max_dendrites", 2}});
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dendrites.switch_every"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("30 epochs exceed train.epochs 20"), std::string::npos)
        << e.what();
  }
}

TEST(Protocol, KeysWorkFromTheCommandLineAndOldConfigsKeepTheOldProtocol) {
  RunConfig cfg = parse_run_config(json::object(), "old.json");  // a file from before these keys
  EXPECT_FALSE(cfg.train.until_complete);
  EXPECT_EQ(cfg.train.max_total_epochs, 0);
  EXPECT_EQ(cfg.dendrites.switch_mode, "plateau");
  apply_override(cfg, "train.until_complete=true");
  apply_override(cfg, "train.max_total_epochs=500");
  apply_override(cfg, "dendrites.switch_mode=fixed");
  apply_override(cfg, "dendrites.switch_every=30");
  apply_override(cfg, "dendrites.layers=conv");
  EXPECT_TRUE(cfg.train.until_complete);
  EXPECT_EQ(cfg.train.max_total_epochs, 500);
  EXPECT_EQ(cfg.dendrites.switch_mode, "fixed");
  EXPECT_EQ(cfg.dendrites.switch_every, 30);
  EXPECT_EQ(cfg.dendrites.layers, "conv");
  for (const auto& [set, message] :
       {std::pair<std::string, std::string>{"dendrites.switch_mode=sometimes",
                                            "dendrites.switch_mode: 'sometimes' is not one of"},
        {"dendrites.switch_every=0", "dendrites.switch_every: must be >= 1"},
        {"train.max_total_epochs=-1", "train.max_total_epochs: must be >= 0"},
        {"dendrites.layers=pool", "dendrites.layers: 'pool' is not one of all, dense, conv"}}) {
    RunConfig copy = cfg;
    try {
      apply_override(copy, set);
      ADD_FAILURE() << set << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

// A cc run that would go on switching: the neuron-phase cap of 30 is what ends it.
RunConfig long_cc(bool until_complete, int total_cap = 0) {
  return xor_config(
      "cc", "classic",
      {{"epochs", 30}, {"until_complete", until_complete}, {"max_total_epochs", total_cap}},
      {{"n_epochs_to_switch", 3},
       {"max_dendrites", 16},
       {"max_dendrite_tries", 1000},
       {"thresholds", {0.0}},
       {"p_max_epochs", 4},
       {"p_epochs_to_switch", 100}});
}

TEST(Protocol, DendritePhaseEpochsDoNotReduceNeuronPhaseEpochs) {
  nn::Sequential net;
  const TrainResult paper = train_xor(long_cc(true), net);
  const int p_epochs = count_phase(paper, "P");
  ASSERT_GE(p_epochs, 8) << "at least two dendrite phases of 4 epochs";
  EXPECT_EQ(count_phase(paper, "N"), 30);
  EXPECT_EQ(paper.epochs_run, 30 + p_epochs);
  // The first protocol counted both phases against train.epochs.
  const TrainResult shared = train_xor(long_cc(false), net);
  EXPECT_EQ(shared.epochs_run, 30);
  EXPECT_EQ(count_phase(shared, "N"), 30 - count_phase(shared, "P"));
  EXPECT_GT(count_phase(shared, "P"), 0);
}

TEST(Protocol, TotalEpochCapStopsBothPhases) {
  nn::Sequential net;
  const TrainResult r = train_xor(long_cc(true, 17), net);
  EXPECT_EQ(r.epochs_trained, 17);
  EXPECT_GT(count_phase(r, "P"), 0);
}

// --- classic candidates: each channel is installed from its best epoch -----------------------

// One batch through the layer: forward, then backward with error e (candidate grads zeroed first).
void batch(dendrite::DendriteLayer& layer, const nn::Tensor& x, const nn::Tensor& e) {
  nn::Tensor y;
  layer.forward(x, y, {});
  for (nn::Param* p : layer.candidate_params()) p->grad.zero();
  layer.backward(x, y, e, nullptr);
}

TEST(Protocol, ClassicCandidatesAreInstalledFromTheirBestEpoch) {
  Rng rng(11);
  auto base = nn::make_dense(4, 3);
  base->init(rng);
  dendrite::DendriteLayer layer(std::move(base), dendrite::Activation::kTanh, true);
  layer.add_dendrite(layer.base().clone_shape(rng));  // so candidates carry cascade weights
  for (float& v : layer.output_weight(0).value.data) v = 0.5f;
  layer.freeze_all();
  layer.begin_candidates(2, rng);
  const nn::Tensor x = random_tensor({16, 4}, rng);
  auto perturb = [&] {
    for (nn::Param* p : layer.candidate_params())
      for (float& v : p->value.data) v += float(0.3 * rng.normal());
  };
  perturb();  // cascade weights start at 0: give them values to tell epochs apart
  // Epoch 1: large errors, the best scores. Remember every candidate's weights and scores.
  layer.reset_epoch_scores();
  batch(layer, x, random_tensor({16, 3}, rng, 10.0));
  layer.keep_best_candidate_rows();
  const auto best_scores = layer.epoch_scores();
  std::vector<std::vector<std::vector<float>>> best_g(2);
  std::vector<std::vector<float>> best_u(2);
  for (int k = 0; k < 2; ++k) {
    for (nn::Param* p : layer.candidate_layer(k).params())
      best_g[size_t(k)].push_back(p->value.data);
    best_u[size_t(k)] = layer.candidate_cascade(k, 0).value.data;
  }
  // Epoch 2: tiny errors, lower scores; then more training. The last epoch is not the best.
  perturb();
  layer.reset_epoch_scores();
  batch(layer, x, random_tensor({16, 3}, rng, 1e-3));
  layer.keep_best_candidate_rows();
  for (size_t k = 0; k < 2; ++k)
    for (size_t c = 0; c < 3; ++c) ASSERT_LT(layer.epoch_scores()[k][c], best_scores[k][c]);
  perturb();
  layer.install_best_candidates();
  ASSERT_EQ(layer.dendrites(), 2);
  auto installed = layer.dendrite_layer(1).params();
  int picked_second = 0;
  for (size_t c = 0; c < 3; ++c) {
    const size_t k = best_scores[1][c] > best_scores[0][c] ? 1 : 0;
    picked_second += int(k);
    for (size_t pi = 0; pi < installed.size(); ++pi) {
      const size_t row = installed[pi]->value.size() / 3;
      for (size_t i = 0; i < row; ++i)
        EXPECT_EQ(installed[pi]->value[c * row + i], best_g[k][pi][c * row + i])
            << "param " << pi << " channel " << c;
    }
    EXPECT_EQ(layer.cascade_weight(1, 0).value[c], best_u[k][c]) << "channel " << c;
  }
  EXPECT_GT(picked_second, 0) << "seed gives no channel to candidate 2; pool untested";
  EXPECT_LT(picked_second, 3) << "seed gives every channel to candidate 2; pool untested";
}

// --- placement -----------------------------------------------------------------------------

TEST(Protocol, PlacementWrapsExactlyTheChosenLayerKinds) {
  ModelSpec spec;
  spec.family = "audio_classifier";
  spec.num_conv = 2;
  spec.num_linear = 2;
  for (const std::string placement : {"all", "dense", "conv"}) {
    SCOPED_TRACE(placement);
    Rng rng(1);
    nn::Sequential net = build_model(spec, 50, 13, 12, rng);
    DendriteSpec ds;
    ds.mode = "gd";
    ds.layers = placement;
    dendrite::wrap_layers(net, ds);
    int conv = 0, dense = 0, bare_conv = 0, bare_dense = 0;
    for (size_t i = 0; i < net.size(); ++i) {
      const std::string kind = net.layer(i).kind();
      if (kind == "conv1d" || kind == "conv2d") ++bare_conv;
      if (kind == "dense") ++bare_dense;
      if (auto* d = dynamic_cast<dendrite::DendriteLayer*>(&net.layer(i))) {
        const std::string base = d->base().kind();
        conv += base == "conv1d" || base == "conv2d";
        dense += base == "dense";
      }
    }
    EXPECT_EQ(conv, placement == "dense" ? 0 : 2);
    EXPECT_EQ(bare_conv, placement == "dense" ? 2 : 0);
    EXPECT_EQ(dense, placement == "conv" ? 0 : 2);
    EXPECT_EQ(bare_dense, placement == "conv" ? 2 : 0);
  }
}

}  // namespace
