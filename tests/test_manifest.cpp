// The pieces of dataset import: delimiter detection and quoted fields, named groups in name
// patterns, manifest headers under their many names, splits drawn for clips without speakers, and
// problems grouped by kind.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include "data/data_internal.hpp"
#include "dkws/dataset.hpp"
#include "dkws/error.hpp"
#include "test_util.hpp"
#include "tone_wav.hpp"

namespace fs = std::filesystem;
using dkws::data::NamePattern;
using dkws::testing::TempDir;

namespace {

std::vector<std::string> fields(const std::string& line, char delimiter) {
  std::vector<std::string> f;
  EXPECT_TRUE(dkws::data::split_delimited(line, delimiter, f)) << line;
  return f;
}

void clip(const fs::path& p, double freq) {
  dkws::testing::write_tone_wav(p, freq, 16000, 0.5);
}

}  // namespace

TEST(Delimited, DetectsTheDelimiterFromTheHeader) {
  using dkws::data::detect_delimiter;
  EXPECT_EQ(detect_delimiter("path,label,speaker"), ',');
  EXPECT_EQ(detect_delimiter("path\tlabel"), '\t');
  EXPECT_EQ(detect_delimiter("path;label;speaker"), ';');
  EXPECT_EQ(detect_delimiter("\"a;b\",label"), ',') << "a quoted delimiter does not count";
  EXPECT_EQ(detect_delimiter("path"), ',');
}

TEST(Delimited, QuotedFieldsFollowRfc4180) {
  EXPECT_EQ(fields("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(fields("\"x, y\",z", ','), (std::vector<std::string>{"x, y", "z"}));
  EXPECT_EQ(fields("\"say \"\"hi\"\"\",2", ','), (std::vector<std::string>{"say \"hi\"", "2"}));
  EXPECT_EQ(fields("a,", ','), (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(fields("a\tb,c", '\t'), (std::vector<std::string>{"a", "b,c"}));
  std::vector<std::string> f;
  EXPECT_FALSE(dkws::data::split_delimited("\"open,b", ',', f));
}

TEST(NamePatterns, NamedGroupsAreFoundAmongPlainOnes) {
  // Escaped parentheses, non-capturing groups and look-aheads are not groups; a parenthesis in a
  // character class is not one either.
  const NamePattern p(R"(^(\w+)\((?:x|y)[(](?=\d)(?<speaker>\d+)_(\d)\.wav$)", "speaker", "--p");
  EXPECT_EQ(p.find("ab(x(12_3.wav"), "12");
  EXPECT_EQ(p.find("ab(x(a12_3.wav"), "");
  const NamePattern python("^(?P<label>[a-z]+)_(?P<speaker>[^_]+)_", "label", "--p");
  EXPECT_EQ(python.find("yes_bob_1.wav"), "yes");
  const NamePattern one_group("_([A-Z]+)_", "speaker", "--p");
  EXPECT_EQ(one_group.find("x_BOB_1.wav"), "BOB");
  EXPECT_EQ(one_group.find("nothing.wav"), "");
  const NamePattern plain_after_named("(?<label>a)(?:b)", "label", "--p");
  EXPECT_EQ(plain_after_named.find("zab"), "a");
}

TEST(NamePatterns, UnusablePatternsAreErrorsNamingTheOption) {
  auto error_of = [](const std::string& pattern) {
    try {
      NamePattern p(pattern, "speaker", "--speaker-pattern");
    } catch (const dkws::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("(a)(b)").find("--speaker-pattern '(a)(b)': needs a (?<speaker>...) group"),
            std::string::npos);
  EXPECT_NE(error_of("no groups").find("needs a (?<speaker>...) group"), std::string::npos);
  EXPECT_NE(error_of("(?<label>a)").find("needs a (?<speaker>...)"), std::string::npos);
  EXPECT_NE(error_of("(?<speaker>a").find("invalid regular expression"), std::string::npos);
  EXPECT_NE(error_of("(?<speaker a)").find("unterminated group name"), std::string::npos);
  EXPECT_NE(error_of("(?<>a)").find("empty group name"), std::string::npos);
}

TEST(Manifest, HeaderNamesInAnyCaseAndOrder) {
  TempDir t;
  clip(t / "a.wav", 300);
  clip(t / "sub/b.wav", 400);
  // A byte order mark, CRLF line ends, a comment and a blank line.
  dkws::testing::write_file(t / "m.csv",
                            "\xEF\xBB\xBF"
                            "Client-ID , SET,Filename,Keyword\r\n# a comment\r\n\r\n"
                            "bob,testing,a.wav,yes\r\nann,,sub/b.wav,no\r\n");
  dkws::DatasetIndex index;
  const auto format = dkws::data::read_manifest(t / "m.csv", "", index);
  EXPECT_EQ(format.delimiter, ',');
  EXPECT_TRUE(format.has_split_column);
  ASSERT_EQ(index.clips.size(), 2u) << (index.problems.empty() ? "" : index.problems[0].line());
  EXPECT_EQ(index.clips[0].path, t / "a.wav");
  EXPECT_EQ(index.clips[0].label, "yes");
  EXPECT_EQ(index.clips[0].speaker, "bob");
  EXPECT_EQ(index.clips[0].split, "test");
  EXPECT_EQ(index.clips[1].split, "") << "an empty split is left for the hash";
  EXPECT_TRUE(index.problems.empty());
}

TEST(Manifest, HeaderlessRowsAndUnreadableHeaders) {
  TempDir t;
  dkws::DatasetIndex index;
  dkws::testing::write_file(t / "two.csv", "x/one.wav,yes\nx/two.wav,no\n");
  dkws::data::read_manifest(t / "two.csv", "val", index);
  dkws::testing::write_file(t / "swapped.csv", "yes,x/three.flac\n");
  dkws::data::read_manifest(t / "swapped.csv", "", index);
  // A split TSV row whose label is also a column name ("word") is still a row.
  dkws::testing::write_file(t / "words.tsv", "train\tword\tw/one.wav\ntest\tclass\tw/two.wav\n");
  dkws::data::read_manifest(t / "words.tsv", "", index);
  ASSERT_EQ(index.clips.size(), 5u);
  EXPECT_EQ(index.clips[3].label, "word");
  EXPECT_EQ(index.clips[3].split, "train");
  EXPECT_EQ(index.clips[4].label, "class");
  EXPECT_EQ(index.clips[0].label, "yes");
  EXPECT_EQ(index.clips[0].split, "val") << "the file's split";
  EXPECT_EQ(index.clips[2].path, t / "x/three.flac");
  EXPECT_EQ(index.clips[2].label, "yes");

  auto error_of = [&](const std::string& text) {
    dkws::testing::write_file(t / "bad.csv", text);
    try {
      dkws::data::read_manifest(t / "bad.csv", "", index);
    } catch (const dkws::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("a,b,c\n").find("bad.csv: the first line is neither a header"),
            std::string::npos);
  EXPECT_NE(error_of("file,label,path\n").find("columns file and path both name the path"),
            std::string::npos);
  EXPECT_NE(error_of("label,speaker\n").find("names no path column"), std::string::npos);
  EXPECT_NE(error_of("").find("bad.csv: empty manifest"), std::string::npos);
  EXPECT_FALSE(dkws::data::is_manifest(t / "bad.csv"));
  EXPECT_TRUE(dkws::data::is_manifest(t / "two.csv"));
}

TEST(Manifest, SplitListsAreFoundByName) {
  TempDir t;
  for (const char* name : {"train.csv", "kws-validation.tsv", "testing_list.csv", "notes.csv",
                           "train_test.csv", "test.txt"})
    dkws::testing::write_file(t / name, "path,label\na.wav,yes\n");
  dkws::testing::write_file(t / "test_results.csv", "accuracy,loss\n0.9,0.1\n");
  const auto found = dkws::data::split_manifests_in(t.path());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].first.filename(), "kws-validation.tsv");
  EXPECT_EQ(found[0].second, "val");
  EXPECT_EQ(found[1].first.filename(), "testing_list.csv");
  EXPECT_EQ(found[1].second, "test");
  EXPECT_EQ(found[2].first.filename(), "train.csv");
  EXPECT_EQ(found[2].second, "train");
}

// Clips without speakers are split by their own name and counted, so reports can warn.
TEST(OpenDataset, CountsClipsSplitWithoutASpeaker) {
  TempDir t;
  for (int i = 0; i < 6; ++i)
    clip(t / (i % 2 ? "yes" : "no") / fmt::format("rec{}.wav", i), 200 + 50 * i);
  clip(t / "yes/abcd1234_nohash_0.wav", 900);
  const auto d = dkws::open_dataset(t.path());
  EXPECT_EQ(d.split_by_clip, 6u);
  for (const auto& c : d.clips)
    EXPECT_EQ(c.split, dkws::split_for_speaker(dkws::speaker_of(c.path)));
  const auto named = dkws::open_dataset(t.path(), {"", "^(?<speaker>rec)"});
  EXPECT_EQ(named.split_by_clip, 1u) << "abcd1234_nohash_0.wav does not match the pattern";
  EXPECT_EQ(named.problems.size(), 1u);
  EXPECT_EQ(named.problems[0].kind, "speaker_pattern");
  EXPECT_EQ(dkws::speaker_leak_warning(0, 7), "");
  EXPECT_NE(dkws::speaker_leak_warning(1, 7).find("1 of 7 clips have no speaker id"),
            std::string::npos);
  EXPECT_NE(dkws::speaker_leak_warning(7, 7).find("all 7 clips were split clip by clip"),
            std::string::npos);
}

TEST(Problems, GroupedByKindWithTheFirstFewOfEach) {
  std::vector<dkws::DataProblem> problems;
  for (int i = 0; i < 5; ++i)
    problems.push_back({"sample_rate", fmt::format("c{}.wav", i), "8000 Hz"});
  problems.push_back({"duplicate", "a.wav", "2 byte-identical files: a.wav, b.wav"});
  problems.push_back({"odd_kind", "", "something"});
  const auto lines = dkws::summarize_problems(problems, 2);
  const std::vector<std::string> want = {
      "  [sample_rate] 5: sample rate other than 16 kHz (resampled when features are computed)",
      "      c0.wav: 8000 Hz",
      "      c1.wav: 8000 Hz",
      "      ... and 3 more",
      "  [duplicate] 1: groups of byte-identical files",
      "      2 byte-identical files: a.wav, b.wav",
      "  [odd_kind] 1: odd_kind",
      "      something"};
  EXPECT_EQ(lines, want);
  EXPECT_EQ(dkws::summarize_problems(problems, 0).size(), 10u) << "0 lists every entry";
}
