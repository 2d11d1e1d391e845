// `dkws features --task`: the .npy export other frameworks train on. The headers are parsed here
// independently of the writer, so a malformed header (NumPy would refuse it) fails the test.
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace fs = std::filesystem;
using dkws::testing::run_cli;
using dkws::testing::TempDir;

namespace {

struct Npy {
  std::string descr;
  std::vector<size_t> shape;
  size_t data_offset = 0;
  size_t file_size = 0;
};

Npy read_npy_header(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string b = ss.str();
  Npy n;
  n.file_size = b.size();
  EXPECT_GE(b.size(), 10u) << p;
  if (b.size() < 10) return n;
  EXPECT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8)) << p;
  const size_t len = size_t(uint8_t(b[8])) | size_t(uint8_t(b[9])) << 8;
  n.data_offset = 10 + len;
  EXPECT_EQ(n.data_offset % 64, 0u) << p;
  const std::string dict = b.substr(10, len);
  EXPECT_EQ(dict.back(), '\n') << p;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(dict, m, std::regex("'descr': '([^']+)'"))) << dict;
  n.descr = m[1];
  EXPECT_NE(dict.find("'fortran_order': False"), std::string::npos) << dict;
  EXPECT_TRUE(std::regex_search(dict, m, std::regex("'shape': \\(([^)]*)\\)"))) << dict;
  const std::string dims = m[1];
  const std::regex number("\\d+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    n.shape.push_back(std::stoul(it->str()));
  return n;
}

size_t elements(const Npy& n) {
  size_t c = 1;
  for (size_t d : n.shape) c *= d;
  return c;
}

}  // namespace

TEST(FeaturesCli, TaskAndFileAreMutuallyExclusive) {
  auto r = run_cli("features some.wav --task kws12 --out x");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("either FILE or --task"), std::string::npos) << r.output;
  r = run_cli("features");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--task"), std::string::npos) << r.output;
  r = run_cli("features --task kws12");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--out"), std::string::npos) << r.output;
  r = run_cli("features --task bogus --out x");
  EXPECT_NE(r.exit_code, 0);
}

TEST(FeaturesCli, ExportsKws12AsNpy) {
  if (!dkws::testing::have_data()) GTEST_SKIP() << "no shared data";
  TempDir t;
  // A cache kept under the build folder makes later runs a read of cached rows rather than a
  // full extraction.
  const auto r = run_cli("features --task kws12 -q --data \"" + dkws::testing::data_dir().string() +
                         "\" --cache \"" + dkws::testing::test_cache_dir("features").string() +
                         "\" --out \"" + (t / "feat").string() + "\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const auto meta = nlohmann::json::parse(std::ifstream(t / "feat" / "classes.json"));
  ASSERT_EQ(meta["classes"].size(), 12u);
  EXPECT_EQ(meta["classes"][0], "yes");
  const size_t dim = meta["frames"].get<size_t>() * meta["coeffs"].get<size_t>();
  EXPECT_EQ(dim, 650u);

  size_t total = 0;
  int s = 0;
  for (const char* split : {"train", "val", "test"}) {
    const Npy x = read_npy_header(t / "feat" / (std::string(split) + "_x.npy"));
    const Npy y = read_npy_header(t / "feat" / (std::string(split) + "_y.npy"));
    EXPECT_EQ(x.descr, "<f4");
    EXPECT_EQ(y.descr, "<i4");
    ASSERT_EQ(x.shape.size(), 2u) << split;
    ASSERT_EQ(y.shape.size(), 1u) << split;
    EXPECT_EQ(x.shape[1], dim);
    EXPECT_EQ(x.shape[0], y.shape[0]) << split;
    EXPECT_EQ(x.shape[0], meta["rows"][s++].get<size_t>()) << split;
    EXPECT_GT(x.shape[0], 0u) << split;
    EXPECT_EQ(x.file_size, x.data_offset + 4 * elements(x)) << split;
    EXPECT_EQ(y.file_size, y.data_offset + 4 * elements(y)) << split;
    total += x.shape[0];
  }
  EXPECT_GT(total, 4000u);
  // No temporary files are left behind by the atomic writes.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(t / "feat")) files += e.is_regular_file();
  EXPECT_EQ(files, 7u);
}
