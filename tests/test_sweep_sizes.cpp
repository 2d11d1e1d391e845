// Final model sizes before training (src/sweep/sizes.cpp): the count matches the layer formula of
// docs/design.md section 5, each arm's dendrite range, and the committed experiment spaces put at
// least 20 distinct configurations of every arm within each budget (issue 13).
#include "dendrite/dendrite_layer.hpp"
#include "dkws/models.hpp"
#include "dkws/sweep.hpp"
#include "test_util.hpp"

namespace {

using namespace dkws;
using namespace dkws::testing;

TEST(SweepSizes, PlannedParamsFollowTheLayerFormulaForEveryPlacement) {
  RunConfig cfg = parse_run_config(
      {{"model",
        {{"family", "audio_classifier"}, {"num_conv", 2}, {"num_linear", 2}, {"width", 0.5}}}},
      "t");
  Rng rng(1);
  nn::Sequential bare =
      build_model(cfg.model, cfg.front_end.frames(), cfg.front_end.coeffs(), 12, rng);
  for (const std::string placement : {"all", "dense", "conv"})
    for (int d = 0; d <= 3; ++d) {
      cfg.dendrites.layers = placement;
      size_t want = 0;
      for (size_t i = 0; i < bare.size(); ++i) {
        nn::Layer& l = bare.layer(i);
        const std::string kind = l.kind();
        const bool conv = kind == "conv2d", dense = kind == "dense";
        size_t p = 0;
        for (const nn::Param* q : l.params()) p += q->value.size();
        const bool wrapped = d > 0 && (placement == "all"     ? conv || dense
                                       : placement == "dense" ? dense
                                                              : conv);
        const int channels = conv || dense ? int(l.params()[0]->value.dim(0)) : 0;
        want += wrapped ? dendrite::dendrite_param_count(p, channels, d) : p;
      }
      EXPECT_EQ(sweep::planned_params(cfg, 12, d), want) << placement << " " << d;
    }
}

TEST(SweepSizes, DendriteRangePerArmAndSwitchMode) {
  RunConfig cfg;
  cfg.dendrites.max_dendrites = 3;
  EXPECT_EQ(sweep::dendrite_range(cfg, "none"), std::make_pair(0, 0));
  EXPECT_EQ(sweep::dendrite_range(cfg, "restart"), std::make_pair(0, 0));
  EXPECT_EQ(sweep::dendrite_range(cfg, "cc"), std::make_pair(0, 3));
  cfg.dendrites.switch_mode = "fixed";
  EXPECT_EQ(sweep::dendrite_range(cfg, "gd"), std::make_pair(3, 3));
  EXPECT_EQ(sweep::dendrite_range(cfg, "none"), std::make_pair(0, 0));
}

// The planned runs' sample sizes (--configs, --seed 1), as the spaces' comments give them.
struct PlannedRun {
  const char* space;
  int classes;
  size_t configs;
};

TEST(SweepSizes, ExperimentSpacesGiveEveryArmTwentyConfigurationsInEachBudget) {
  for (const PlannedRun& run : {PlannedRun{"experiment_kws12_paper.json", 12, 40},
                                PlannedRun{"experiment_kws12_fixed.json", 12, 70},
                                PlannedRun{"experiment_kw3_paper.json", 3, 40},
                                PlannedRun{"experiment_kw3_fixed.json", 3, 40}}) {
    SCOPED_TRACE(run.space);
    const auto space = sweep::load_space(source_dir() / "configs" / run.space);
    const auto configs = sweep::sample_configs(space, "random", run.configs, 1);
    const auto fits = sweep::count_budget_fits(space, configs, {"none", "restart", "gd", "cc"},
                                               {1500, 4000}, run.classes);
    ASSERT_EQ(fits.size(), 8u);
    for (const auto& f : fits) {
      EXPECT_GE(f.surely, 20u) << f.arm << " at " << f.budget;
      EXPECT_LE(f.surely, f.possibly);
    }
  }
}

TEST(SweepSizes, CliPrintsTheCountsAndNeedsClassesForFolderTasks) {
  const auto space = (source_dir() / "configs" / "sweep_demo.json").string();
  const auto ok = run_cli("sweep sizes --space " + space + " --configs 10 --arms none,cc");
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("budget  surely  possibly"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("  cc           4000"), std::string::npos) << ok.output;
  const auto bad = run_cli("sweep sizes --space " + space + " --task folder");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--task folder needs --classes"), std::string::npos) << bad.output;
}

}  // namespace
