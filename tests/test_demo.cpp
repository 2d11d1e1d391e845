// `make demo` at a tiny size: scripts/demo.sh end to end (sweep none vs cc, report, best model
// under the budget exported to C and ONNX, firmware in QEMU, summary), on the real data and, where
// the speech tools are installed, on a synthesised keyword set.
#include <gtest/gtest.h>

#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "dkws/util.hpp"
#include "test_util.hpp"

namespace {

using namespace dkws::testing;
namespace fs = std::filesystem;

// Runs the demo from the source tree with a 3-epoch space, 2 configurations and 1 seed.
CommandResult run_tiny_demo(const TempDir& t, const std::string& data_env) {
  std::string space = dkws::read_file(source_dir() / "configs" / "sweep_demo.json");
  // 3 epochs: a dendrite after each of the first two (fixed switching, 2 dendrites).
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"\"epochs\": 30", "\"epochs\": 3"},
        {"\"switch_every\": 10", "\"switch_every\": 1"}}) {
    const size_t at = space.find(from);
    if (at == std::string::npos) {
      ADD_FAILURE() << "configs/sweep_demo.json no longer has " << from;
      continue;
    }
    space.replace(at, from.size(), to);
  }
  write_file(t / "space.json", space);
  const fs::path build = fs::path(DKWS_CLI_PATH).parent_path();
  return run_shell(fmt::format(
      "cd '{}' && {} DKWS_DEMO_OUT='{}' DKWS_DEMO_SPACE='{}' DKWS_DEMO_CONFIGS=2 "
      "DKWS_DEMO_SEEDS=1 DKWS_DEMO_JOBS=1 DKWS_DEMO_SYNTH_PER_CLASS=40 scripts/demo.sh '{}'",
      source_dir().string(), data_env, (t / "demo").string(), (t / "space.json").string(),
      build.string()));
}

void expect_demo_outputs(const TempDir& t, const CommandResult& r) {
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path out = t / "demo";
  EXPECT_TRUE(fs::exists(out / "report" / "report.html")) << r.output;
  EXPECT_TRUE(fs::exists(out / "export-c" / "kws.h"));
  EXPECT_TRUE(fs::exists(out / "export-onnx" / "model.onnx"));
  const auto trials = nlohmann::json::parse(dkws::read_file(out / "sweep" / "trials.json"));
  EXPECT_EQ(trials.at("trials").size(), 4u);  // 2 configs x 2 arms x 1 seed
  EXPECT_NE(r.output.find("== summary"), std::string::npos);
  // The summary gives each pick's dendrites; fixed switching gives every cc model both.
  int cc_picks = 0;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("best under") == std::string::npos ||
        line.find("parameters,") == std::string::npos)
      continue;
    const bool cc = line.find("arm cc") != std::string::npos;
    cc_picks += cc;
    EXPECT_NE(line.find(cc ? " 2 dendrites," : " 0 dendrites,"), std::string::npos) << line;
  }
  EXPECT_GT(cc_picks, 0) << r.output;
  EXPECT_NE(r.output.find("report: " + (out / "report" / "report.html").string()),
            std::string::npos);
  if (have_tool("arm-none-eabi-gcc") && have_tool("qemu-system-arm")) {
    const auto fw = nlohmann::json::parse(dkws::read_file(out / "export-c" / "firmware.json"));
    EXPECT_GT(fw.at("clips").get<int>(), 0);
    EXPECT_EQ(fw.at("matching"), fw.at("clips"));
  }
}

TEST(Demo, TinyDemoOnRealData) {
  if (!have_data()) GTEST_SKIP() << "no data at " << data_dir();
  TempDir t;
  const auto r = run_tiny_demo(t, fmt::format("DKWS_DATA='{}'", data_dir().string()));
  expect_demo_outputs(t, r);
  EXPECT_NE(r.output.find("real Speech Commands data"), std::string::npos);
}

TEST(Demo, TinyDemoOnSynthesisedSpeechWithoutData) {
  for (const char* tool : {"espeak-ng", "flite", "sox"})
    if (!have_tool(tool)) GTEST_SKIP() << tool << " missing (make deps installs it)";
  TempDir t;
  const auto r = run_tiny_demo(t, "DKWS_DATA=/nonexistent");
  expect_demo_outputs(t, r);
  EXPECT_NE(r.output.find("NOTICE: no Speech Commands data found"), std::string::npos);
  EXPECT_NE(r.output.find("SYNTHETIC"), std::string::npos);
}

}  // namespace
