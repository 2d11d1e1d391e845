// Each trial's history.csv, compacted for the report page: the page draws training graphs from
// these with a small inline plotter, because 800 embedded training_graph.svg files (~30 KB each)
// would make a ~25 MB page. Accuracies are stored in thousandths (0.1 point resolution is finer
// than a plot pixel), slowly changing columns as change points.
#include <cmath>

#include <fmt/core.h>

#include "dkws/util.hpp"
#include "report/sweep_report.hpp"

namespace dkws {
namespace {

using nlohmann::json;

// RFC 4180 rows: quoted cells may hold commas, doubled quotes and newlines (the event column).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        cell += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(cell)), cell.clear();
    } else if (c == '\n') {
      rows.back().push_back(std::move(cell)), cell.clear();
      rows.emplace_back();
    } else if (c != '\r') {
      cell += c;
    }
  }
  if (!cell.empty() || !rows.back().empty()) rows.back().push_back(std::move(cell));
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

// Three significant digits; nlohmann prints the shortest form that reads back the same.
double sig3(double v) {
  return std::stod(fmt::format("{:.3g}", v));
}

double to_num(const std::string& s) {
  try {
    return s.empty() ? std::nan("") : std::stod(s);
  } catch (...) {
    return std::nan("");
  }
}

// A history, or null when the file is missing or has no usable columns (the page then says so).
json compact_history(const std::filesystem::path& csv_path) {
  std::string text;
  try {
    text = read_file(csv_path);
  } catch (...) {
    return nullptr;
  }
  const auto rows = parse_csv(text);
  if (rows.size() < 2) return nullptr;
  auto col = [&](const char* name) -> int {
    for (size_t i = 0; i < rows[0].size(); ++i)
      if (rows[0][i] == name) return int(i);
    return -1;
  };
  const int c_val = col("val_acc"), c_train = col("train_acc"), c_phase = col("phase"),
            c_lr = col("lr"), c_d = col("dendrites"), c_p = col("params"), c_ev = col("event");
  if (c_val < 0) return nullptr;
  json val = json::array(), train = json::array(), lr = json::array(), dend = json::array(),
       params = json::array(), events = json::array();
  std::string phase;
  auto get = [](const std::vector<std::string>& r, int c) {
    return c >= 0 && size_t(c) < r.size() ? r[size_t(c)] : std::string();
  };
  auto milli = [](double v) {
    return std::isfinite(v) ? json(std::lround(v * 1000)) : json(nullptr);
  };
  double last_lr = std::nan(""), last_d = std::nan(""), last_p = std::nan("");
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const int epoch = int(i);
    val.push_back(milli(to_num(get(r, c_val))));
    train.push_back(milli(to_num(get(r, c_train))));
    const std::string ph = get(r, c_phase);
    phase += ph.empty() ? 'N' : ph[0];
    const double l = to_num(get(r, c_lr)), d = to_num(get(r, c_d)), p = to_num(get(r, c_p));
    if (std::isfinite(l) && l != last_lr) lr.push_back({epoch, sig3(l)}), last_lr = l;
    if (std::isfinite(d) && d != last_d) dend.push_back({epoch, long(d)}), last_d = d;
    if (std::isfinite(p) && p != last_p) params.push_back({epoch, long(p)}), last_p = p;
    if (std::string ev = get(r, c_ev); !ev.empty())
      events.push_back({epoch, ev.size() > 80 ? ev.substr(0, 77) + "..." : ev});
  }
  return {{"v", val},  {"t", train},  {"ph", phase}, {"lr", lr},
          {"d", dend}, {"p", params}, {"ev", events}};
}

}  // namespace

json sweep_histories(const std::filesystem::path& sweep_dir, const SweepTrials& t) {
  json out = json::object();
  for (const auto& tr : t.trials) {
    if (tr.run_dir.empty()) continue;
    json h = compact_history(sweep_dir / tr.run_dir / "history.csv");
    if (!h.is_null()) out[std::to_string(tr.trial_id)] = std::move(h);
  }
  return out;
}

}  // namespace dkws
