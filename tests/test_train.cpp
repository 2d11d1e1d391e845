// The training loop on a small synthetic task: it learns, it is deterministic for a seed, it keeps
// the best-validation checkpoint, and the model file reproduces outputs bit for bit.
#include <cstring>
#include <limits>

#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/models.hpp"
#include "dkws/nn/optim.hpp"
#include "dkws/train.hpp"
#include "dkws/util.hpp"
#include "test_util.hpp"
#include "toy_tasks.hpp"

namespace {

using namespace dkws;
using dkws::testing::pattern_set;

TaskData make_task() {
  TaskData t;
  t.name = "toy";
  t.classes = {"a", "b", "c"};
  t.train = pattern_set(300, 1);
  t.val = pattern_set(90, 2);
  t.test = pattern_set(90, 3);
  return t;
}

RunConfig toy_config(int epochs = 15) {
  RunConfig c = parse_run_config(
      {{"train", {{"epochs", epochs}, {"lr", 0.01}}}, {"dendrites", {{"n_epochs_to_switch", 100}}}},
      "toy");
  return c;
}

// A fresh model of cfg.model trained quietly on `task` into `net`.
TrainResult train_toy(const TaskData& task, const RunConfig& cfg, nn::Sequential& net) {
  Rng rng(1);
  net = build_model(cfg.model, 8, 3, 3, rng);
  TrainOptions opt;
  opt.quiet = true;
  return train_model(net, cfg, task, opt);
}

TEST(Train, LearnsASeparableTaskAndKeepsTheBestCheckpoint) {
  const TaskData task = make_task();
  RunConfig cfg = toy_config();
  Rng rng(cfg.train.seed);
  nn::Sequential net = build_model(cfg.model, 8, 3, 3, rng);
  TrainOptions opt;
  opt.quiet = true;
  const TrainResult r = train_model(net, cfg, task, opt);
  EXPECT_GT(r.test_acc, 0.9);
  EXPECT_EQ(r.epochs_run, 15);
  ASSERT_EQ(r.history.size(), 15u);
  double best = 0;
  for (const auto& e : r.history) best = std::max(best, e.val_acc);
  EXPECT_DOUBLE_EQ(r.best_val_acc, best);
  EXPECT_DOUBLE_EQ(evaluate(net, task.val).accuracy, r.best_val_acc)
      << "the returned net must be the best-validation checkpoint";
  int total = 0;
  for (const auto& row : r.test_confusion)
    for (int v : row) total += v;
  EXPECT_EQ(total, 90);
}

TEST(Train, SameSeedGivesBitIdenticalTraining) {
  const TaskData task = make_task();
  RunConfig cfg = toy_config(4);
  auto run = [&](uint64_t seed) {
    cfg.train.seed = seed;
    Rng rng(seed);
    nn::Sequential net = build_model(cfg.model, 8, 3, 3, rng);
    TrainOptions opt;
    opt.quiet = true;
    train_model(net, cfg, task, opt);
    return params_to_json(net).dump();
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(Train, ModeNoneStopsEarlyWhenValidationStalls) {
  const TaskData task = make_task();
  RunConfig cfg = toy_config(200);
  cfg.train.early_stopping = true;
  cfg.dendrites.n_epochs_to_switch = 3;
  nn::Sequential net;
  const TrainResult r = train_toy(task, cfg, net);
  EXPECT_LT(r.epochs_run, 200);
  EXPECT_EQ(r.epochs_run, r.best_epoch + 3);
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0]["action"], "complete");
}

// The default (as Edge Impulse trains): every configured epoch, however long validation stalls,
// and the returned net is the best-validation checkpoint, not the last epoch's.
TEST(Train, DefaultTrainsEveryEpochAndKeepsTheBest) {
  const TaskData task = make_task();
  RunConfig cfg = toy_config(40);
  EXPECT_FALSE(cfg.train.early_stopping) << "the default";
  cfg.dendrites.n_epochs_to_switch = 3;
  nn::Sequential net;
  const TrainResult r = train_toy(task, cfg, net);
  EXPECT_EQ(r.epochs_run, 40);
  ASSERT_EQ(r.history.size(), 40u);
  EXPECT_TRUE(r.transitions.empty()) << r.transitions.dump();
  // Patience 3 would have stopped this run: validation went 3 epochs without a new best.
  int longest_stall = 0, stall = 0;
  double best = -1;
  for (const auto& e : r.history) {
    stall = e.val_acc > best ? 0 : stall + 1;
    best = std::max(best, e.val_acc);
    longest_stall = std::max(longest_stall, stall);
  }
  EXPECT_GE(longest_stall, 3);
  EXPECT_DOUBLE_EQ(r.best_val_acc, best);
  EXPECT_DOUBLE_EQ(evaluate(net, task.val).accuracy, r.best_val_acc);
  EXPECT_DOUBLE_EQ(r.history[size_t(r.best_epoch - 1)].val_acc, r.best_val_acc);
}

// A small three-class model of `cfg`'s family over 8x3 features, as `dkws train` would save it.
SavedModel tiny_saved_model(const RunConfig& cfg) {
  Rng rng(3);
  SavedModel m;
  m.config = cfg;
  m.classes = {"a", "b", "c"};
  m.net = build_model(cfg.model, 8, 3, 3, rng);
  return m;
}

TEST(ModelFile, SaveAndLoadGiveBitIdenticalOutputs) {
  dkws::testing::TempDir tmp;
  RunConfig cfg = parse_run_config(
      {{"model", {{"family", "audio_classifier"}, {"num_conv", 1}, {"num_linear", 2}}}}, "t");
  SavedModel m = tiny_saved_model(cfg);
  save_model(tmp / "m.json", m);
  SavedModel back = load_model(tmp / "m.json");
  EXPECT_EQ(back.classes, m.classes);
  EXPECT_EQ(back.config.to_json(), cfg.to_json());
  const FeatureSet set = pattern_set(20, 9);
  nn::Tensor x({20, 24});
  x.data = set.x;
  const nn::Tensor a = m.net.forward(x, {});
  const nn::Tensor b = back.net.forward(x, {});
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(back.net.params()[0]->max_norm, 1.0f) << "MaxNorm flags survive the round trip";
}

// The optimiser state a resume reloads: after the round trip both copies take bit-identical steps,
// from the base64 form and from the arrays of numbers older state files hold.
TEST(ModelFile, AdamStateRoundTripIsBitExact) {
  Rng rng(5);
  RunConfig cfg = parse_run_config(
      {{"model", {{"family", "audio_classifier"}, {"num_conv", 1}, {"num_linear", 2}}}}, "t");
  auto step = [](nn::Sequential& net, nn::Adam& adam, uint64_t seed) {
    Rng g(seed);
    for (nn::Param* p : net.params())
      for (float& v : p->grad.data) v = float(g.normal());
    adam.step();
  };
  nn::Sequential a = build_model(cfg.model, 8, 3, 3, rng);
  nn::Adam adam_a(a.params(), 0.01f);
  for (uint64_t s = 0; s < 3; ++s) step(a, adam_a, s);
  const nlohmann::json state = adam_a.state();
  ASSERT_TRUE(state.at("m").at(0).is_string()) << "moments are stored as base64";
  nlohmann::json legacy = state;  // the same moments as arrays of numbers
  for (const char* key : {"m", "v"})
    for (size_t k = 0; k < legacy[key].size(); ++k) {
      const auto bytes = base64_decode(legacy[key][k].get<std::string>());
      std::vector<float> values(bytes.size() / sizeof(float));
      std::memcpy(values.data(), bytes.data(), bytes.size());
      legacy[key][k] = values;
    }
  for (const nlohmann::json* saved : {&state, static_cast<const nlohmann::json*>(&legacy)}) {
    nn::Sequential b = clone_net(a), c = clone_net(a);
    nn::Adam adam_b(b.params(), 0.5f), adam_c(c.params(), 0.01f);
    adam_b.load_state(*saved);
    adam_c.load_state(adam_a.state());
    step(b, adam_b, 9);
    step(c, adam_c, 9);
    for (size_t i = 0; i < b.params().size(); ++i)
      EXPECT_EQ(b.params()[i]->value.data, c.params()[i]->value.data);
    nn::Adam fresh(b.params(), 0.01f);
    step(b, fresh, 9);
    EXPECT_NE(b.params()[0]->value.data, c.params()[0]->value.data)
        << "without the loaded moments the step differs";
  }
  nlohmann::json bad = state;
  bad["m"][0] = "AAA=";  // 2 bytes: not whole floats
  nn::Adam other(a.params(), 0.01f);
  EXPECT_THROW(other.load_state(bad), Error);
}

// A dead unit's moments decay into the subnormal range, where x86 arithmetic is slow: Adam
// flushes them to zero instead (and leaves the caller's floating-point mode as it was), while
// normal moments update as before.
TEST(Adam, FlushesSubnormalMomentsToZero) {
  nn::Param p("w", {2});
  p.value.data = {0.5f, 0.5f};
  p.grad.data = {0.f, 0.f};
  nn::Adam adam({&p}, 0.01f);
  const float tiny = 1e-39f, normal = 1e-3f;  // 1e-39 is under FLT_MIN (1.18e-38)
  ASSERT_LT(tiny, std::numeric_limits<float>::min());
  nlohmann::json state = adam.state();
  const float m[2] = {tiny, normal}, v[2] = {tiny, normal};
  state["m"][0] = base64_encode(m, sizeof m);
  state["v"][0] = base64_encode(v, sizeof v);
  adam.load_state(state);
  adam.step();
  const auto moments = [&](const char* key) {
    const auto bytes = base64_decode(adam.state()[key][0].get<std::string>());
    std::vector<float> out(bytes.size() / sizeof(float));
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  };
  EXPECT_EQ(moments("m")[0], 0.f) << "a subnormal first moment is flushed";
  EXPECT_EQ(moments("v")[0], 0.f) << "a subnormal second moment is flushed";
  EXPECT_EQ(moments("m")[1], 0.9f * normal);
  EXPECT_EQ(moments("v")[1], 0.999f * normal);
  EXPECT_EQ(p.value.data[0], 0.5f);
  EXPECT_LT(p.value.data[1], 0.5f);
  volatile float sub = tiny;  // the caller's mode is back: subnormals survive out here
  EXPECT_GT(sub * 0.5f, 0.f);
}

TEST(ModelFile, CorruptFilesGiveClearErrors) {
  dkws::testing::TempDir tmp;
  dkws::testing::write_file(tmp / "junk.json", "not json at all");
  try {
    load_model(tmp / "junk.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("junk.json"), std::string::npos);
  }
  // A number too large for a double is nlohmann's out_of_range, not a parse_error (found by
  // fuzz/fuzz_model_file.cpp; it escaped as a bare JSON exception).
  dkws::testing::write_file(tmp / "huge.json", R"({"format": "dkws-model", "version": 1e999})");
  try {
    load_model(tmp / "huge.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("huge.json"), std::string::npos) << e.what();
  }
  // Keys of the wrong type are named too, not thrown as nlohmann's type_error (found by fuzzing).
  dkws::testing::write_file(tmp / "format.json", R"({"format": {"a": 1}, "version": 1})");
  EXPECT_THROW(load_model(tmp / "format.json"), Error);
  dkws::testing::write_file(tmp / "version.json", R"({"format": "dkws-model", "version": "1"})");
  try {
    load_model(tmp / "version.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("version.json: unsupported model file version \"1\""),
              std::string::npos)
        << e.what();
  }
  dkws::testing::write_file(tmp / "other.json", R"({"format": "something-else"})");
  EXPECT_THROW(load_model(tmp / "other.json"), Error);
  EXPECT_THROW(load_model(tmp / "missing.json"), Error);
}

// Sizes in a model file are checked before they are trusted (found by fuzz/fuzz_model_file.cpp):
// a parameter's shape must be its layer's (a smaller one was loaded and then read past by the
// layer), and a layer may not ask for more weights than kMaxConfigWeights (it failed allocating).
TEST(ModelFile, SizesFromTheFileAreCheckedAgainstTheLayers) {
  dkws::testing::TempDir tmp;
  RunConfig cfg = parse_run_config(nlohmann::json::object(), "t");
  SavedModel m = tiny_saved_model(cfg);
  save_model(tmp / "m.json", m);
  const nlohmann::json good = nlohmann::json::parse(read_file(tmp / "m.json"));
  auto error_of = [&](const nlohmann::json& j) {
    dkws::testing::write_file(tmp / "bad.json", j.dump());
    try {
      load_model(tmp / "bad.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  ASSERT_EQ(error_of(good), "");
  nlohmann::json shape = good;
  const auto last = shape["params"].size() - 1;  // the last dense layer's bias
  shape["params"][last]["shape"] = {1};
  shape["params"][last]["data"] = "AAAAAA==";  // one float
  EXPECT_NE(error_of(shape).find("bad.json: params[" + std::to_string(last) +
                                 "]: shape [1] does not match the layer's [3]"),
            std::string::npos)
      << error_of(shape);
  nlohmann::json huge = good;
  for (auto& layer : huge["layers"])
    if (layer["kind"] == "dense") layer["in"] = 2000000000, layer["out"] = 2000000000;
  EXPECT_NE(error_of(huge).find("bad.json: layers: layer 'dense': weight of 4e+18 floats is over "
                                "the limit"),
            std::string::npos)
      << error_of(huge);
  nlohmann::json reshape = good;
  reshape["layers"][0]["shape"] = {65536, 65536, 4};
  EXPECT_NE(error_of(reshape).find("holds more than 2^31 floats"), std::string::npos)
      << error_of(reshape);
}

}  // namespace
