// `dkws features FILE`: runs the audio front end on one file and shows the result, either as JSON
// (shape + frame-major values) on stdout or as an SVG heat map written to a file.
// `dkws features --task kws12|kw3|folder --out DIR`: exports a task's feature matrices as .npy
// files, so other frameworks (tools/torch) train on exactly the features dkws trains on.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/npy.hpp"
#include "dkws/audio.hpp"
#include "dkws/config.hpp"
#include "dkws/dataset.hpp"
#include "dkws/dsp.hpp"
#include "dkws/error.hpp"
#include "dkws/util.hpp"

namespace dkws::cli {
namespace {

struct FeaturesOptions {
  std::string file;
  std::string block = "mfcc";
  std::vector<std::string> sets;
  bool json = false;
  std::string out;
  // Task export mode.
  std::string task;
  std::string data_dir;
  std::string cache_dir = ".cache/dkws";
  uint64_t seed = 1;
  bool quiet = false;
};

// Viridis, sampled at five stops and interpolated linearly: perceptually even and colour-blind
// safe.
std::string colour(double t) {
  static const double stops[5][3] = {
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  int rgb[3];
  for (int k = 0; k < 3; ++k)
    rgb[k] = static_cast<int>(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

// A tick every 1, 2, 5, 10, ... units, chosen so there are at most ~10 ticks along n cells.
int tick_step(int n) {
  for (int step : {1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000})
    if (n / step <= 10) return step;
  return std::max(1, n / 10);
}

std::string heat_map_svg(const FeatureMatrix& m, const std::string& title,
                         const std::string& y_label) {
  const double lo = m.data.empty() ? 0.0 : *std::min_element(m.data.begin(), m.data.end());
  const double hi = m.data.empty() ? 1.0 : *std::max_element(m.data.begin(), m.data.end());
  const double span = hi > lo ? hi - lo : 1.0;
  const double cw = std::clamp(900.0 / std::max(1, m.frames), 2.0, 20.0);
  const double ch = std::clamp(400.0 / std::max(1, m.coeffs), 4.0, 24.0);
  const double left = 70, top = 40, plot_w = cw * m.frames, plot_h = ch * m.coeffs;
  const double bar_x = left + plot_w + 30, width = bar_x + 90, height = top + plot_h + 60;

  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"{}\" y=\"22\" font-size=\"14\">{}</text>\n",
      width, height, left, xml_escape(title));
  // Cells: frame t on x, coefficient c on y with c = 0 at the bottom.
  s += "<g shape-rendering=\"crispEdges\">\n";
  for (int t = 0; t < m.frames; ++t) {
    for (int c = 0; c < m.coeffs; ++c) {
      const double v = m.data[static_cast<size_t>(t) * m.coeffs + c];
      s += fmt::format(
          "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" "
          "fill=\"{}\"/>\n",
          left + t * cw, top + (m.coeffs - 1 - c) * ch, cw, ch, colour((v - lo) / span));
    }
  }
  s += "</g>\n";
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"none\" "
      "stroke=\"black\"/>\n",
      left, top, plot_w, plot_h);
  // Axes: ticks at cell centres, then the axis names.
  for (int t = 0; t < m.frames; t += tick_step(m.frames)) {
    const double x = left + (t + 0.5) * cw;
    s += fmt::format(
        "<line x1=\"{0:.2f}\" y1=\"{1:.2f}\" x2=\"{0:.2f}\" y2=\"{2:.2f}\" "
        "stroke=\"black\"/><text x=\"{0:.2f}\" y=\"{3:.2f}\" "
        "text-anchor=\"middle\">{4}</text>\n",
        x, top + plot_h, top + plot_h + 5, top + plot_h + 18, t);
  }
  for (int c = 0; c < m.coeffs; c += tick_step(m.coeffs)) {
    const double y = top + (m.coeffs - 1 - c + 0.5) * ch;
    s += fmt::format(
        "<line x1=\"{0:.2f}\" y1=\"{1:.2f}\" x2=\"{2:.2f}\" y2=\"{1:.2f}\" "
        "stroke=\"black\"/><text x=\"{3:.2f}\" y=\"{4:.2f}\" "
        "text-anchor=\"end\">{5}</text>\n",
        left - 5, y, left, left - 8, y + 4, c);
  }
  s += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">frame</text>\n",
                   left + plot_w / 2, top + plot_h + 40);
  s += fmt::format(
      "<text transform=\"translate(20 {:.2f}) rotate(-90)\" "
      "text-anchor=\"middle\">{}</text>\n",
      top + plot_h / 2, y_label);
  // Colour scale: a vertical bar from the minimum (bottom) to the maximum (top).
  const int steps = 64;
  for (int i = 0; i < steps; ++i) {
    s += fmt::format(
        "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"16\" height=\"{:.2f}\" "
        "fill=\"{}\"/>\n",
        bar_x, top + plot_h * (steps - 1 - i) / steps, plot_h / steps + 0.5,
        colour((i + 0.5) / steps));
  }
  s += fmt::format(
      "<rect x=\"{:.2f}\" y=\"{}\" width=\"16\" height=\"{:.2f}\" fill=\"none\" "
      "stroke=\"black\"/>\n",
      bar_x, top, plot_h);
  s += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\">{:.3g}</text>\n", bar_x + 20, top + 10, hi);
  s += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\">{:.3g}</text>\n", bar_x + 20, top + plot_h, lo);
  s += "</svg>\n";
  return s;
}

FrontEndConfig front_end(const FeaturesOptions& o) {
  FrontEndConfig cfg;
  cfg.block = o.block;
  for (const auto& kv : o.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(fmt::format("--set expects name=value (got '{}')", kv));
    cfg.set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  cfg.validate();
  return cfg;
}

// Writes <split>_x.npy [N, frames*coeffs] float32, <split>_y.npy [N] int32 and classes.json. Each
// file is replaced atomically, so a reader never sees a half-written array.
void export_task(const FeaturesOptions& o) {
  if (o.json) throw Error("features: --json applies to FILE mode, not --task");
  if (o.out.empty()) throw Error("features: --task needs --out DIR");
  // The default data folder holds Speech Commands, not the user's dataset.
  if (o.task == "folder" && o.data_dir.empty())
    throw Error("features: --task folder needs --data DIR (a dataset folder or manifest file)");
  TaskSpec spec;
  spec.name = o.task;
  spec.data_dir = o.data_dir.empty() ? default_data_dir() : std::filesystem::path(o.data_dir);
  if (spec.data_dir.empty())
    throw Error("no data: pass --data DIR or set DKWS_DATA (see README, 'Data')");
  spec.front_end = front_end(o);
  spec.cache_dir = o.cache_dir;
  spec.seed = o.seed;
  spec.quiet = o.quiet;
  const TaskData data = load_task(spec);

  const std::filesystem::path dir = o.out;
  std::filesystem::create_directories(dir);
  const std::pair<const char*, const FeatureSet*> splits[] = {
      {"train", &data.train}, {"val", &data.val}, {"test", &data.test}};
  for (const auto& [name, set] : splits) {
    const std::vector<int32_t> y(set->y.begin(), set->y.end());
    write_file_atomic(dir / fmt::format("{}_x.npy", name),
                      npy_bytes<float>({set->size(), size_t(set->dim())}, set->x.data()));
    write_file_atomic(dir / fmt::format("{}_y.npy", name),
                      npy_bytes<int32_t>({y.size()}, y.data()));
  }
  const nlohmann::json meta = {{"task", data.name},
                               {"classes", data.classes},
                               {"frames", data.train.frames},
                               {"coeffs", data.train.coeffs},
                               {"front_end", spec.front_end.to_json()},
                               {"rows", {data.train.size(), data.val.size(), data.test.size()}}};
  write_file_atomic(dir / "classes.json", meta.dump(2) + "\n");
  fmt::print("wrote {} ({} / {} / {} rows x {}) and classes.json\n",
             (dir / "{train,val,test}_{x,y}.npy").string(), data.train.size(), data.val.size(),
             data.test.size(), data.train.dim());
}

void run_features(const FeaturesOptions& o) {
  if (!o.task.empty() && !o.file.empty())
    throw Error("features: give either FILE or --task, not both");
  if (!o.task.empty()) return export_task(o);
  if (o.file.empty())
    throw Error("features: give an audio FILE, or --task kws12|kw3|folder --out DIR");
  const FrontEndConfig cfg = front_end(o);

  const auto samples = load_audio(o.file, AudioOptions{cfg.sample_rate, cfg.window_seconds});
  const FeatureMatrix m = compute_features(samples, cfg);

  if (o.json) {
    // fmt prints each float in its shortest form that reads back to the same float.
    std::string s = fmt::format("{{\"shape\":[{},{}],\"features\":[", m.frames, m.coeffs);
    for (size_t i = 0; i < m.data.size(); ++i)
      fmt::format_to(std::back_inserter(s), "{}{}", i ? "," : "", m.data[i]);
    s += "]}\n";
    fmt::print("{}", s);
    return;
  }
  std::filesystem::path out = o.out;
  if (out.empty()) out = std::filesystem::path(o.file).stem().string() + "." + cfg.block + ".svg";
  const std::string title =
      fmt::format("{}: {} ({} frames x {} {})", std::filesystem::path(o.file).filename().string(),
                  cfg.block, m.frames, m.coeffs, cfg.block == "mfe" ? "filters" : "coefficients");
  const std::string svg =
      heat_map_svg(m, title, cfg.block == "mfe" ? "mel filter" : "cepstral coefficient");
  std::ofstream f(out, std::ios::binary);
  if (!f || !(f << svg) || !f.flush()) throw Error(out.string() + ": cannot write");
  fmt::print("{}\n", out.string());
}

}  // namespace

void register_features(CLI::App& app) {
  auto o = std::make_shared<FeaturesOptions>();
  auto* cmd = app.add_subcommand(
      "features",
      "Compute MFCC or MFE features of one audio file (JSON or an SVG heat map), or export a "
      "task's features as .npy files (--task)");
  cmd->add_option("FILE", o->file, "Audio file (WAV, FLAC, OGG; any rate or channel count)");
  cmd->add_option("--block", o->block, "Front end: mfcc or mfe")
      ->check(CLI::IsMember({"mfcc", "mfe"}))
      ->capture_default_str();
  cmd->add_option("--set", o->sets,
                  "Block parameter as name=value, repeatable (e.g. num_filters=40, "
                  "frame_stride=0.01, window_seconds=1.5)")
      ->allow_extra_args(false);
  cmd->add_flag("--json", o->json,
                "Print {\"shape\":[frames,coeffs],\"features\":[...]} to stdout");
  cmd->add_option("--out", o->out,
                  "FILE mode: SVG path (default: <FILE stem>.<block>.svg here); --task: output "
                  "folder");
  cmd->add_option("--task", o->task,
                  "Export a task's {train,val,test}_{x,y}.npy and classes.json to --out: kws12, "
                  "kw3, or folder (any dataset dkws data inspect reads, given by --data)")
      ->check(CLI::IsMember({"kws12", "kw3", "folder"}));
  cmd->add_option("--data", o->data_dir,
                  "Data folder (default $DKWS_DATA or ../shared/data); for --task folder the "
                  "dataset folder or manifest file (required)");
  cmd->add_option("--cache", o->cache_dir, "Feature cache folder ('' disables)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed for kw3's sampling and noise crops")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "No class counts or progress output");
  cmd->callback([o] { run_features(*o); });
}

}  // namespace dkws::cli
