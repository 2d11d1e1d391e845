// The training loop on a small synthetic task: it learns, it is deterministic for a seed, it keeps
// the best-validation checkpoint, and the model file reproduces outputs bit for bit.
#include "dkws/error.hpp"
#include "dkws/model_file.hpp"
#include "dkws/nn/models.hpp"
#include "dkws/train.hpp"
#include "test_util.hpp"

namespace {

using namespace dkws;

// Three classes whose feature matrices differ by a class-specific pattern under noise.
FeatureSet make_set(int n, uint64_t seed, int frames = 8, int coeffs = 3) {
  FeatureSet s;
  s.frames = frames;
  s.coeffs = coeffs;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = i % 3;
    s.y.push_back(label);
    for (int f = 0; f < frames; ++f)
      for (int c = 0; c < coeffs; ++c)
        s.x.push_back(float(0.8 * ((f + label) % 3 == c) + 0.5 * rng.normal()));
  }
  return s;
}

TaskData make_task() {
  TaskData t;
  t.name = "toy";
  t.classes = {"a", "b", "c"};
  t.train = make_set(300, 1);
  t.val = make_set(90, 2);
  t.test = make_set(90, 3);
  return t;
}

RunConfig toy_config(int epochs = 15) {
  RunConfig c = parse_run_config(
      {{"train", {{"epochs", epochs}, {"lr", 0.01}}}, {"dendrites", {{"n_epochs_to_switch", 100}}}},
      "toy");
  return c;
}

TEST(Train, LearnsASeparableTaskAndKeepsTheBestCheckpoint) {
  const TaskData task = make_task();
  RunConfig cfg = toy_config();
  Rng rng(cfg.train.seed);
  nn::Sequential net = nn::build_model(cfg.model, 8, 3, 3, rng);
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
    nn::Sequential net = nn::build_model(cfg.model, 8, 3, 3, rng);
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
  cfg.dendrites.n_epochs_to_switch = 3;
  Rng rng(1);
  nn::Sequential net = nn::build_model(cfg.model, 8, 3, 3, rng);
  TrainOptions opt;
  opt.quiet = true;
  const TrainResult r = train_model(net, cfg, task, opt);
  EXPECT_LT(r.epochs_run, 200);
  EXPECT_EQ(r.epochs_run, r.best_epoch + 3);
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0]["action"], "complete");
}

TEST(ModelFile, SaveAndLoadGiveBitIdenticalOutputs) {
  dkws::testing::TempDir tmp;
  RunConfig cfg = parse_run_config(
      {{"model", {{"family", "audio_classifier"}, {"num_conv", 1}, {"num_linear", 2}}}}, "t");
  Rng rng(3);
  SavedModel m;
  m.config = cfg;
  m.classes = {"a", "b", "c"};
  m.net = nn::build_model(cfg.model, 8, 3, 3, rng);
  save_model(tmp / "m.json", m);
  SavedModel back = load_model(tmp / "m.json");
  EXPECT_EQ(back.classes, m.classes);
  EXPECT_EQ(back.config.to_json(), cfg.to_json());
  const FeatureSet set = make_set(20, 9);
  nn::Tensor x({20, 24});
  x.data = set.x;
  const nn::Tensor a = m.net.forward(x, {});
  const nn::Tensor b = back.net.forward(x, {});
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(back.net.params()[0]->max_norm, 1.0f) << "MaxNorm flags survive the round trip";
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
  dkws::testing::write_file(tmp / "other.json", R"({"format": "something-else"})");
  EXPECT_THROW(load_model(tmp / "other.json"), Error);
  EXPECT_THROW(load_model(tmp / "missing.json"), Error);
}

}  // namespace
