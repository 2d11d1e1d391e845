#include "train/run_outputs.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "dkws/util.hpp"
#include "train/training_graph.hpp"

namespace dkws {
namespace {

std::string confusion_csv(const std::vector<std::string>& classes,
                          const std::vector<std::vector<int>>& m) {
  std::string out = "true\\pred";
  for (const auto& c : classes) out += "," + c;
  out += "\n";
  for (size_t i = 0; i < m.size(); ++i) {
    out += classes[i];
    for (int v : m[i]) out += fmt::format(",{}", v);
    out += "\n";
  }
  return out;
}

// Rows are true classes, columns predictions; cell shade is the row-normalised rate.
std::string confusion_svg(const std::vector<std::string>& classes,
                          const std::vector<std::vector<int>>& m) {
  const int n = int(classes.size()), cell = 36, left = 90, top = 90;
  const int size = left + n * cell + 20;
  std::string s = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{0}' height='{0}' font-family='sans-serif' "
      "font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n"
      "<text x='{1}' y='14' font-size='13'>Confusion matrix (test): rows true, columns "
      "predicted</text>\n",
      size, 10);
  for (int i = 0; i < n; ++i) {
    int row_total = 0;
    for (int v : m[size_t(i)]) row_total += v;
    s += fmt::format("<text x='{}' y='{}' text-anchor='end'>{}</text>\n", left - 4,
                     top + i * cell + cell / 2 + 4, xml_escape(classes[size_t(i)]));
    s += fmt::format("<text transform='translate({},{}) rotate(-60)'>{}</text>\n",
                     left + i * cell + cell / 2, top - 4, xml_escape(classes[size_t(i)]));
    for (int j = 0; j < n; ++j) {
      const int v = m[size_t(i)][size_t(j)];
      const double rate = row_total ? double(v) / row_total : 0.0;
      const int shade = 255 - int(rate * 200);
      s += fmt::format(
          "<rect x='{}' y='{}' width='{}' height='{}' fill='rgb({},{},255)' stroke='#ccc'/>"
          "<text x='{}' y='{}' text-anchor='middle' fill='{}'>{}</text>\n",
          left + j * cell, top + i * cell, cell, cell, shade, shade, left + j * cell + cell / 2,
          top + i * cell + cell / 2 + 4, rate > 0.6 ? "white" : "black", v);
    }
  }
  return s + "</svg>\n";
}

// A CSV cell: quoted when it holds a comma, quote or newline (event strings are free text).
std::string csv_cell(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';  // a quote inside a quoted cell is doubled
    out += c;
  }
  out += '"';
  return out;
}

// One dendrite_score_<l> column per wrapped layer, matching the graph's lines; the cells are empty
// in neuron-phase epochs, where no score is measured.
std::string history_csv(const TrainResult& r) {
  size_t layers = 0;
  for (const auto& e : r.history) layers = std::max(layers, e.dendrite_scores.size());
  std::string out =
      "epoch,phase,train_loss,train_acc,train_eval_acc,val_loss,val_acc,val_score,lr,dendrites,"
      "params,seconds";
  for (size_t l = 0; l < layers; ++l) out += fmt::format(",dendrite_score_{}", l);
  out += ",event\n";
  for (const auto& e : r.history) {
    // The eval-mode cell is empty where it was not measured.
    const std::string eval_acc =
        std::isfinite(e.train_eval_acc) ? fmt::format("{:.6f}", e.train_eval_acc) : "";
    out += fmt::format("{},{},{:.6f},{:.6f},{},{:.6f},{:.6f},{:.6f},{:.3g},{},{},{:.4f}", e.epoch,
                       e.phase, e.train_loss, e.train_acc, eval_acc, e.val_loss, e.val_acc,
                       e.val_score, e.lr, e.dendrites, e.params, e.seconds);
    for (size_t l = 0; l < layers; ++l)
      out += l < e.dendrite_scores.size() ? fmt::format(",{:.6g}", e.dendrite_scores[l]) : ",";
    out += ',';
    out += csv_cell(e.event);
    out += '\n';
  }
  return out;
}

}  // namespace

nlohmann::json run_metrics_json(const RunConfig& cfg, const TaskData& data, const TrainResult& r,
                                size_t params_base, const nn::Sequential& net) {
  return {{"task", data.name},
          {"classes", data.classes},
          {"model", cfg.model.family},
          {"dendrites", cfg.dendrites.mode},
          {"rules", cfg.dendrites.rules},
          {"seed", cfg.train.seed},
          {"val_accuracy", r.best_val_acc},
          {"val_loss", r.val_loss},
          {"test_accuracy", r.test_acc},
          {"best_epoch", r.best_epoch},
          {"epochs", r.epochs_run},
          {"epochs_trained", r.epochs_trained},
          {"params_base", params_base},
          {"params", net.count_params()},
          {"params_trainable", net.count_params(true)},
          {"train_seconds", r.train_seconds},
          {"samples",
           {{"train", data.train.size()}, {"val", data.val.size()}, {"test", data.test.size()}}},
          {"transitions", r.transitions},
          {"test_confusion", r.test_confusion}};
}

void write_run_outputs(const std::filesystem::path& dir, const TaskData& data, const TrainResult& r,
                       const nlohmann::json& metrics) {
  write_file_atomic(dir / "metrics.json", metrics.dump(2) + "\n");
  write_file_atomic(dir / "confusion.csv", confusion_csv(data.classes, r.test_confusion));
  write_file_atomic(dir / "confusion.svg", confusion_svg(data.classes, r.test_confusion));
  write_file_atomic(dir / "history.csv", history_csv(r));
  const std::string title =
      fmt::format("Training: {} \u00b7 {} \u00b7 dendrites {} \u00b7 seed {}", data.name,
                  metrics.value("model", std::string("?")),
                  metrics.value("dendrites", std::string("?")), metrics.value("seed", uint64_t(0)));
  write_file_atomic(dir / "training_graph.svg", training_graph_svg(r, title));
}

}  // namespace dkws
