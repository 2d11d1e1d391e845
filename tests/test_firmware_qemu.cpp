// Firmware check: the committed cc model (about 1,300 parameters, dendrites included) and the
// DS-CNN model (depthwise convs, average pool, dendrites on its pointwise convs) exported to C,
// built for QEMU's mps2-an386 (Cortex-M4F) with 24 real kws12 test clips in flash, run under QEMU
// with semihosting; every class and score must equal the host's C++ int8 reference. Also checks the
// flash/RAM targets and reports instructions per inference (-icount shift=0: 1 ns of virtual time
// per instruction, read from the CMSDK timer and calibrated in the firmware).
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "deploy_test_util.hpp"
#include "dkws/util.hpp"

namespace {

using namespace dkws;
using namespace dkws::testing;
namespace fs = std::filesystem;

size_t section_size(const std::string& size_txt, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(size_txt, m, std::regex("\\n" + name + "\\s+(\\d+)"))) return 0;
  return std::stoul(m[1]);
}

class Firmware : public ::testing::TestWithParam<std::string> {};

TEST_P(Firmware, QemuClassesEqualTheHostsWithinTheFlashAndRamTargets) {
  if (!have_data()) GTEST_SKIP() << "no data at " << data_dir();
  for (const char* tool : {"arm-none-eabi-gcc", "qemu-system-arm", "make"})
    if (!have_tool(tool)) GTEST_SKIP() << tool << " missing (make deps installs it)";
  const DeployCase c = deploy_case(GetParam(), 24);
  TempDir t;
  const auto summary = deploy::export_c(c.q, t / "model");
  write_file(t / "clips.h", deploy::firmware_clips_header(c.clips));
  const auto build = run_shell("make -s -C '" + (source_dir() / "firmware").string() + "' MODEL='" +
                               (t / "model").string() + "' CLIPS='" + (t / "clips.h").string() +
                               "' OUT='" + (t / "fw").string() + "'");
  ASSERT_EQ(build.exit_code, 0) << build.output;
  const auto run = run_shell(
      "timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting "
      "-icount shift=0 -kernel '" +
      (t / "fw" / "kws.elf").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;

  std::istringstream lines(run.output);
  std::string line;
  size_t clips = 0, mismatches = 0, stack = 0, calibration = 0, frontend = 0;
  double ticks = 0;
  while (std::getline(lines, line)) {
    std::istringstream w(line);
    std::string key;
    w >> key;
    if (key == "clip") {
      size_t i;
      int label;
      std::string word;
      w >> i >> word >> label >> word;
      std::vector<int8_t> scores;
      int s;
      while (w >> s) scores.push_back(int8_t(s));
      ASSERT_LT(i, c.clips.size());
      const auto ref = deploy::classify_pcm(c.q, c.clips[i].data(), c.clips[i].size());
      mismatches += label != deploy::argmax_scores(ref) || scores != ref;
      ++clips;
    } else if (key == "ticks") {
      size_t i, n;
      w >> i >> n;
      ticks += double(n);
    } else if (key == "stack") {
      w >> stack;
    } else if (key == "frontend") {
      w >> frontend;
    } else if (key == "calibration") {
      w >> calibration;
    }
  }
  EXPECT_EQ(clips, c.clips.size()) << run.output;
  EXPECT_EQ(mismatches, 0u) << run.output;

  const std::string size_txt = read_file(t / "fw" / "size.txt");
  const size_t text = section_size(size_txt, ".text"), data = section_size(size_txt, ".data");
  const size_t bss = section_size(size_txt, ".bss");
  const size_t flash = text + data, ram = data + bss + stack;
  // The loop in main.c runs 2 x 100000 instructions: instructions per timer tick.
  ASSERT_GT(calibration, 0u);
  const double per_tick = 200000.0 / double(calibration);
  const double instructions = ticks / double(clips) * per_tick;
  std::printf(
      "firmware %s: %zu clips equal to host; flash %zu B (.text %zu + .data %zu, clips "
      "excluded); RAM %zu B (.data + .bss %zu incl. arena %zu, + stack high-water %zu); "
      "%.0f instructions per inference (%.2f per timer tick), of which the front end %.0f\n",
      GetParam().c_str(), clips, flash, text, data, ram, bss, summary.arena_bytes, stack,
      instructions, per_tick, double(frontend) * per_tick);
  EXPECT_NEAR(per_tick, 40.0, 0.5);  // 25 MHz timer, 1 ns per instruction
  EXPECT_LE(flash, 32u * 1024u);
  EXPECT_LE(ram, 16u * 1024u);
  EXPECT_GT(instructions, 1e4);
  EXPECT_GT(frontend, 0u);
  EXPECT_LT(double(frontend) * per_tick, instructions);
}

INSTANTIATE_TEST_SUITE_P(Deploy, Firmware,
                         ::testing::Values("cc_kws12.json", "ds_kws12.json", "mfe_kws12.json"),
                         [](const auto& info) { return info.param.substr(0, 2); });

}  // namespace
