#include "dkws/config.hpp"
#include "dkws/error.hpp"
#include "test_util.hpp"

namespace {

using dkws::Error;
using dkws::parse_run_config;
using nlohmann::json;

std::string error_of(const json& j) {
  try {
    parse_run_config(j, "cfg.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsAreTheEdgeImpulseRecipe) {
  auto c = parse_run_config(json::object(), "x");
  EXPECT_EQ(c.model.family, "ei_conv1d");
  EXPECT_DOUBLE_EQ(c.train.lr, 0.005);
  EXPECT_EQ(c.train.batch_size, 32);
  EXPECT_EQ(c.train.epochs, 100);
  EXPECT_EQ(c.train.scheduler, "none");
}

TEST(Config, AudioClassifierGetsItsOwnRecipe) {
  auto c = parse_run_config({{"model", {{"family", "audio_classifier"}}}}, "x");
  EXPECT_EQ(c.train.scheduler, "plateau");
  EXPECT_DOUBLE_EQ(c.model.max_norm, 1.0);
}

TEST(Config, UnknownKeyIsNamed) {
  EXPECT_NE(
      error_of({{"train", {{"learning_rate", 0.1}}}}).find("unknown key 'train.learning_rate'"),
      std::string::npos);
  EXPECT_NE(error_of({{"bogus", 1}}).find("'bogus'"), std::string::npos);
}

TEST(Config, OutOfRangeValuesAreNamed) {
  EXPECT_NE(error_of({{"train", {{"lr", -1.0}}}}).find("train.lr"), std::string::npos);
  EXPECT_NE(error_of({{"model", {{"num_conv", 5}}}}).find("model.num_conv"), std::string::npos);
  EXPECT_NE(error_of({{"dendrites", {{"mode", "magic"}}}}).find("dendrites.mode"),
            std::string::npos);
  EXPECT_NE(error_of({{"train", {{"epochs", "ten"}}}}).find("train.epochs"), std::string::npos);
  EXPECT_NE(error_of({{"model", {{"dropout", 1.0}}}}).find("model.dropout"), std::string::npos);
}

TEST(Config, OverridesAreCheckedLikeTheFile) {
  auto c = parse_run_config(json::object(), "x");
  dkws::apply_override(c, "train.lr=0.01");
  EXPECT_DOUBLE_EQ(c.train.lr, 0.01);
  dkws::apply_override(c, "dendrites.mode=cc");
  EXPECT_EQ(c.dendrites.mode, "cc");
  EXPECT_THROW(dkws::apply_override(c, "train.nope=1"), Error);
  EXPECT_THROW(dkws::apply_override(c, "train.lr=0"), Error);
  EXPECT_THROW(dkws::apply_override(c, "novalue"), Error);
}

// Switching the front end's block on the command line starts the new block from its defaults;
// the next overrides set its own parameters, and the old block's names are errors.
TEST(Config, SwitchingTheFrontEndBlockTakesItsDefaults) {
  auto c = parse_run_config(json::object(), "x");
  dkws::apply_override(c, "front_end.params.num_filters=20");
  dkws::apply_override(c, "front_end.block=mfe");
  EXPECT_EQ(c.front_end.block, "mfe");
  EXPECT_EQ(c.front_end.mfe.num_filters, dkws::MfeParams{}.num_filters);
  EXPECT_EQ(c.front_end.coeffs(), 40);
  dkws::apply_override(c, "front_end.params.num_filters=24");
  dkws::apply_override(c, "front_end.params.frame_stride=0.02");
  EXPECT_EQ(c.front_end.coeffs(), 24);
  EXPECT_EQ(c.front_end.frames(), 50);
  EXPECT_THROW(dkws::apply_override(c, "front_end.params.num_cepstral=13"), Error);
  EXPECT_THROW(dkws::apply_override(c, "front_end.block=plp"), Error);
  // What a trained MFE model's file holds reads back (this failed: "unknown key
  // 'front_end.params.noise_floor_db'").
  const auto back = parse_run_config(c.to_json(), "model.json");
  EXPECT_EQ(back.front_end.block, "mfe");
  EXPECT_EQ(back.front_end.coeffs(), 24);
  EXPECT_DOUBLE_EQ(back.front_end.mfe.frame_stride, 0.02);
  EXPECT_THROW(parse_run_config(
                   {{"front_end", {{"block", "mfe"}, {"params", {{"num_cepstral", 13}}}}}}, "x"),
               Error);
  dkws::apply_override(c, "front_end.block=mfcc");
  EXPECT_EQ(c.front_end.coeffs(), 13);
}

// A number too large for a double is nlohmann's out_of_range, not a parse_error: both the file
// and a --set value give dkws::Error naming where it came from (found by fuzzing).
TEST(Config, NumberTooLargeForADoubleIsNamed) {
  dkws::testing::TempDir tmp;
  dkws::testing::write_file(tmp / "huge.json", R"({"train": {"lr": 1e999}})");
  try {
    dkws::load_run_config(tmp / "huge.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("huge.json: invalid JSON"), std::string::npos) << e.what();
  }
  auto c = parse_run_config(json::object(), "x");
  try {
    dkws::apply_override(c, "train.lr=1e999");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.lr"), std::string::npos) << e.what();
  }
}

// A family that is not a string reached a string comparison before the type checks and threw
// nlohmann's type_error (found by fuzzing); now the checks name the key.
TEST(Config, FamilyOfTheWrongTypeIsNamed) {
  EXPECT_NE(error_of({{"model", {{"family", 4}}}}).find("model.family"), std::string::npos)
      << error_of({{"model", {{"family", 4}}}});
}

TEST(Config, RoundTripsThroughJson) {
  auto c = parse_run_config({{"model", {{"family", "audio_classifier"}, {"num_conv", 3}}},
                             {"dendrites", {{"mode", "gd"}, {"thresholds", {0.01, 0.0}}}}},
                            "x");
  auto d = parse_run_config(c.to_json(), "y");
  EXPECT_EQ(c.to_json(), d.to_json());
}

TEST(Config, CliRejectsUnknownKeyAndBadValueWithNonZeroExit) {
  dkws::testing::TempDir tmp;
  dkws::testing::write_file(tmp / "bad.json", R"({"train": {"lerning_rate": 0.1}})");
  auto r = dkws::testing::run_cli("train --quiet --config " + (tmp / "bad.json").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("train.lerning_rate"), std::string::npos) << r.output;
  dkws::testing::write_file(tmp / "range.json", R"({"train": {"batch_size": 0}})");
  r = dkws::testing::run_cli("train --quiet --config " + (tmp / "range.json").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("train.batch_size"), std::string::npos) << r.output;
  r = dkws::testing::run_cli("train --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--config"), std::string::npos);
}

}  // namespace
