// The per-run training graph (SVG) and the history.csv written beside it.
#include <cmath>
#include <cstdlib>
#include <regex>
#include <vector>

#include "dkws/util.hpp"
#include "test_util.hpp"
#include "train/run_outputs.hpp"
#include "train/training_graph.hpp"

namespace dkws {
namespace {

using dkws::testing::TempDir;

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

// Tags nest and close properly: enough to catch a broken writer without an XML parser.
::testing::AssertionResult well_formed(const std::string& svg) {
  if (svg.rfind("<?xml", 0) != 0) return ::testing::AssertionFailure() << "no XML declaration";
  if (count(svg, "<svg") != 1 || svg.size() < 7 || svg.substr(svg.size() - 7) != "</svg>\n")
    return ::testing::AssertionFailure() << "not one <svg> element closing at the end";
  std::vector<std::string> open;
  for (size_t at = svg.find('<'); at != std::string::npos; at = svg.find('<', at + 1)) {
    const size_t end = svg.find('>', at);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unterminated tag";
    const std::string tag = svg.substr(at + 1, end - at - 1);
    if (tag.find('<') != std::string::npos) return ::testing::AssertionFailure() << "'<' in tag";
    if (tag[0] == '?') continue;
    const std::string name =
        tag.substr(tag[0] == '/', tag.find_first_of(" />", 1) - (tag[0] == '/'));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name)
        return ::testing::AssertionFailure() << "</" << name << "> closes nothing open";
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(name);
    }
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> never closed";
  if (std::regex_search(svg, std::regex("\\b-?(nan|inf)\\b", std::regex::icase)))
    return ::testing::AssertionFailure() << "non-finite number in the output";
  return ::testing::AssertionSuccess();
}

EpochRecord rec(int epoch, const char* phase, double acc, double lr, int dendrites, size_t params,
                std::vector<double> scores = {}, std::string event = "") {
  EpochRecord r;
  r.epoch = epoch;
  r.phase = phase;
  r.train_acc = acc + 0.02;
  if (std::string(phase) == "N") r.train_eval_acc = acc + 0.05;  // P epochs do not measure it
  r.val_acc = acc;
  r.lr = lr;
  r.dendrites = dendrites;
  r.params = params;
  r.dendrite_scores = std::move(scores);
  r.event = std::move(event);
  return r;
}

// cc-style history: N, switch, P (2 layers), install, N with an lr drop, switch, P, install,
// a revert that discards the last dendrite, a retry P, install and a final stop.
TrainResult synthetic() {
  TrainResult r;
  auto& h = r.history;
  int e = 0;
  for (int i = 0; i < 10; ++i)
    h.push_back(rec(++e, "N", 0.5 + 0.02 * i, i < 6 ? 1e-3 : 5e-4, 0, 1000));
  h.back().event = "no improvement: switching";
  for (int i = 0; i < 4; ++i)
    h.push_back(rec(++e, "P", 0.68, 5e-4, 0, 1000, {1e-3 * (i + 1), 2e-3 * (i + 1)}));
  h.back().event = "dendrite scores stalled: installing";
  for (int i = 0; i < 8; ++i)
    h.push_back(rec(++e, "N", 0.7 + 0.01 * i, i < 5 ? 1e-3 : 1e-4, 1, 2100));
  h.back().event = "no improvement: switching";
  for (int i = 0; i < 3; ++i) h.push_back(rec(++e, "P", 0.77, 1e-4, 1, 2100, {5e-4, 1e-3}));
  h.back().event = "dendrite scores stalled: installing";
  for (int i = 0; i < 5; ++i) h.push_back(rec(++e, "N", 0.76, 1e-3, 2, 3300));
  h.back().event = "last growth never beat the best; retrying <&>";
  for (int i = 0; i < 3; ++i) h.push_back(rec(++e, "P", 0.77, 1e-3, 1, 2100, {4e-4, 9e-4}));
  h.back().event = "dendrite scores stalled: installing";
  for (int i = 0; i < 3; ++i) h.push_back(rec(++e, "N", 0.75, 1e-3, 2, 3300));
  h.back().event = "last growth never beat the best; tries exhausted";
  r.best_epoch = 22;
  r.best_val_acc = h[21].val_acc;
  r.test_acc = 0.74;
  r.epochs_run = e;
  return r;
}

// Set DKWS_GRAPH_DUMP to a folder to look at the test graphs.
void dump(const std::string& name, const std::string& svg) {
  if (const char* dir = std::getenv("DKWS_GRAPH_DUMP"))
    write_file_atomic(std::filesystem::path(dir) / (name + ".svg"), svg);
}

TEST(TrainingGraph, SeriesBandsAndMarkers) {
  const TrainResult r = synthetic();
  const std::string svg = training_graph_svg(r, "synthetic <run> & co");
  dump("synthetic", svg);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_NE(svg.find("synthetic &lt;run&gt; &amp; co"), std::string::npos);
  // train (train mode), train (eval mode), validation, 2 dendrite-score layers, learning rate,
  // parameters
  EXPECT_EQ(count(svg, "class='series'"), 7u);
  EXPECT_EQ(count(svg, "class='phase-band'"), 3u);
  // switch, install, switch, install, revert, install, stop
  EXPECT_EQ(count(svg, "class='marker'"), 7u);
  EXPECT_EQ(count(svg, "class='best'"), 1u);
  EXPECT_NE(svg.find("retrying &lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(svg.find("reverted: dendrites 2"), std::string::npos);
  EXPECT_NE(svg.find("layer 1"), std::string::npos);
  EXPECT_EQ(svg.find("no dendrite phase"), std::string::npos);
}

TEST(TrainingGraph, EmptyHistoryIsStillAGraph) {
  const std::string svg = training_graph_svg(TrainResult{}, "empty");
  dump("empty", svg);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_EQ(count(svg, "class='series'"), 0u);
  EXPECT_EQ(count(svg, "class='marker'"), 0u);
  EXPECT_NE(svg.find("no epochs recorded"), std::string::npos);
  EXPECT_NE(svg.find("no dendrite phase"), std::string::npos);
}

TEST(TrainingGraph, OneEpochAndConstantValues) {
  TrainResult r;
  r.history.push_back(rec(1, "N", 0.5, 1e-3, 0, 500));
  r.best_epoch = 1;
  r.best_val_acc = 0.5;
  std::string svg = training_graph_svg(r, "one");
  dump("one", svg);
  EXPECT_TRUE(well_formed(svg));
  // train in train and eval mode, val, lr, params; no dendrite scores
  EXPECT_EQ(count(svg, "class='series'"), 5u);
  EXPECT_EQ(count(svg, "class='phase-band'"), 0u);
  EXPECT_EQ(count(svg, "class='best'"), 1u);
  EXPECT_NE(svg.find("no dendrite phase"), std::string::npos);

  for (int e = 2; e <= 20; ++e) r.history.push_back(rec(e, "N", 0.5, 1e-3, 0, 500));
  r.history.back().event = "no improvement: early stop";
  svg = training_graph_svg(r, "constant");
  dump("constant", svg);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_EQ(count(svg, "class='series'"), 5u);
  EXPECT_EQ(count(svg, "class='marker'"), 1u);
  // A history without the eval-mode figure (eval_train_accuracy off) draws no line for it.
  for (auto& e : r.history) e.train_eval_acc = std::nan("");
  svg = training_graph_svg(r, "no eval-mode figure");
  EXPECT_EQ(count(svg, "class='series'"), 4u);
  EXPECT_EQ(svg.find("train (eval mode)"), std::string::npos);
}

TEST(TrainingGraph, NonFiniteInputsAndLoneDendriteEpoch) {
  TrainResult r;
  r.history.push_back(rec(1, "N", std::nan(""), 0, 0, 500));
  r.history.push_back(rec(2, "N", 0.4, 1e-3, 0, 500, {}, "no improvement: switching"));
  r.history.push_back(rec(3, "P", 0.4, 1e-3, 0, 500, {INFINITY, 0.0}, "stalled"));
  r.history.push_back(rec(4, "N", 0.45, -1, 1, 900));
  const std::string svg = training_graph_svg(r, "odd");
  dump("odd", svg);
  EXPECT_TRUE(well_formed(svg));
  EXPECT_EQ(count(svg, "class='phase-band'"), 1u);
  EXPECT_EQ(count(svg, "class='marker'"), 2u);
}

TEST(RunOutputs, HistoryHasOneScoreColumnPerLayerAndTheGraph) {
  TempDir dir;
  TaskData data;
  data.name = "synthetic";
  data.classes = {"yes", "no"};
  TrainResult r = synthetic();
  r.history[3].event = "a, quoted \"event\"";
  r.test_confusion = {{3, 1}, {0, 4}};
  write_run_outputs(dir.path(), data, r, {{"model", "m"}, {"dendrites", "cc"}, {"seed", 1}});

  const std::string csv = read_file(dir / "history.csv");
  std::istringstream lines(csv);
  std::string header, row;
  std::getline(lines, header);
  EXPECT_EQ(
      header,
      "epoch,phase,train_loss,train_acc,train_eval_acc,val_loss,val_acc,val_score,lr,dendrites,"
      "params,seconds,dendrite_score_0,dendrite_score_1,event");
  std::vector<std::string> rows;
  while (std::getline(lines, row)) rows.push_back(row);
  ASSERT_EQ(rows.size(), r.history.size());
  EXPECT_NE(rows[3].find(",\"a, quoted \"\"event\"\"\""), std::string::npos) << rows[3];
  EXPECT_EQ(rows[0].substr(rows[0].size() - 3), ",,,");  // N epoch: empty score cells, no event
  EXPECT_NE(rows[10].find(",0.001,0.002,"), std::string::npos) << rows[10];  // first P epoch
  // The eval-mode train accuracy sits after the train-mode one; a P epoch leaves it empty.
  EXPECT_EQ(rows[0].substr(0, rows[0].find(",0.000000,0.500000")),
            "1,N,0.000000,0.520000,0.550000");
  EXPECT_NE(rows[10].find(",0.700000,,"), std::string::npos) << rows[10];

  const std::string svg = read_file(dir / "training_graph.svg");
  EXPECT_TRUE(well_formed(svg));
  EXPECT_NE(svg.find("synthetic"), std::string::npos);
  EXPECT_NE(svg.find("train (eval mode)"), std::string::npos);
  EXPECT_NE(svg.find("train (train mode)"), std::string::npos);
}

}  // namespace
}  // namespace dkws
