#include "train/training_graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/core.h>

namespace dkws {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kWidth = 900, kLeft = 74, kPlotW = 650, kLegendX = kLeft + kPlotW + 14;
constexpr const char* kValColor = "#1f5fa8";
constexpr const char* kTrainColor = "#5aa469";
constexpr const char* kBandColor = "#f6d58e";
constexpr const char* kLayerColors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                        "#b07aa1", "#9c755f", "#edc948", "#ff9da7", "#17becf"};

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    const char* e = c == '<'    ? "&lt;"
                    : c == '>'  ? "&gt;"
                    : c == '&'  ? "&amp;"
                    : c == '\'' ? "&apos;"
                    : c == '"'  ? "&quot;"
                                : nullptr;
    e ? out += e : out += c;
  }
  return out;
}

// Coordinates with one decimal keep the file small; every caller passes finite values only.
std::string px(double v) {
  return fmt::format("{:.1f}", v);
}

double nice_step(double span, int target) {
  const double raw = span / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;
};

// Linear axis over the finite values, padded, snapped to round ticks and clamped to [floor, ceil];
// a constant series gets min_span around it so it draws as a flat line mid-panel.
Axis linear_axis(const std::vector<double>& values, double floor, double ceil, double min_span) {
  double lo = kInf, hi = -lo;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < min_span) {
    const double mid = (lo + hi) / 2;
    lo = mid - min_span / 2, hi = mid + min_span / 2;
  }
  const double step = nice_step(hi - lo, 5);
  Axis a;
  a.lo = std::max(floor, std::floor(lo / step - 0.04) * step);
  a.hi = std::min(ceil, std::ceil(hi / step + 0.04) * step);
  for (double t = std::ceil(a.lo / step) * step; t <= a.hi + step * 1e-6; t += step)
    a.ticks.push_back(t);
  return a;
}

// Log axis (in log10 units) over the positive finite values: decades as ticks, with 2x and 5x
// added when the range is too narrow to show two decades.
Axis log_axis(const std::vector<double>& values) {
  double lo = kInf, hi = -lo;
  for (double v : values)
    if (std::isfinite(v) && v > 0)
      lo = std::min(lo, std::log10(v)), hi = std::max(hi, std::log10(v));
  if (!std::isfinite(lo)) lo = -3, hi = -3;
  Axis a{lo - 0.15, hi + 0.15, true, {}};
  if (a.hi - a.lo < 0.8) a.lo = (lo + hi) / 2 - 0.4, a.hi = (lo + hi) / 2 + 0.4;
  for (int d = int(std::floor(a.lo)); d <= int(std::ceil(a.hi)); ++d)
    for (double m : {1.0, 2.0, 5.0}) {
      const double t = std::log10(m) + d;
      if (t >= a.lo && t <= a.hi && (m == 1.0 || a.hi - a.lo < 2.5)) a.ticks.push_back(t);
    }
  return a;
}

// "5e-7" rather than fmt's "5e-07".
std::string fmt_sci(double v) {
  if (v == 0) return "0";
  int e = int(std::floor(std::log10(std::abs(v)) + 1e-9));
  double m = v / std::pow(10.0, e);
  if (std::abs(m) >= 9.995) m /= 10, ++e;
  return fmt::format("{:.3g}e{}", m, e);
}
std::string fmt_count(double v) {
  if (std::abs(v) >= 1e6) return fmt::format("{:.4g}M", v / 1e6);
  if (std::abs(v) >= 1e4) return fmt::format("{:.4g}k", v / 1e3);
  return fmt::format("{:g}", v);
}

enum class Ticks { kPercent, kNumber, kCount };

// Tick labels are formatted per axis, so neighbours share a style and enough decimals to differ.
std::vector<std::string> tick_labels(const Axis& a, Ticks kind) {
  std::vector<double> v;
  for (double t : a.ticks) v.push_back(a.log ? std::pow(10.0, t) : t);
  const double step = v.size() > 1 ? std::abs(v[1] - v[0]) : 1;
  bool sci = false;
  for (double x : v) sci = sci || (x != 0 && (std::abs(x) < 1e-3 || std::abs(x) >= 1e5));
  std::vector<std::string> out;
  for (double x : v) {
    if (kind == Ticks::kPercent)
      out.push_back(
          fmt::format("{:.{}f}%", x * 100,
                      step * 100 >= 1 ? 0 : int(std::ceil(-std::log10(step * 100) - 1e-9))));
    else if (kind == Ticks::kCount)
      out.push_back(fmt_count(x));
    else
      out.push_back(sci ? fmt_sci(x) : fmt::format("{:.3g}", x));
  }
  return out;
}

struct Panel {
  double top = 0, height = 0, x0 = 0, x1 = 1;  // x0/x1: epoch range of the plot area
  Axis y;
  double bottom() const { return top + height; }
  double X(double epoch) const { return kLeft + (epoch - x0) / (x1 - x0) * kPlotW; }
  double Y(double v) const {
    const double t = y.log ? std::log10(v) : v;
    return top + height - (t - y.lo) / (y.hi - y.lo) * height;
  }
  bool plottable(double v) const { return std::isfinite(v) && (!y.log || v > 0); }
};

struct SeriesStyle {
  const char* color;
  double width = 1.8;
  const char* dash = "none";
  bool step = false;  // each epoch's value holds across its slot, as lr and size do in an epoch
  bool dots = false;  // a dot at every point: dendrite phases last only a few epochs
};

// One path through (epochs[i], ys[i]); non-plottable values break it into subpaths. An isolated
// point (a one-epoch run) would draw nothing as a line, so it gets a dot beside the path.
std::string series_path(const Panel& p, const std::vector<double>& epochs,
                        const std::vector<double>& ys, const SeriesStyle& st) {
  std::string d, dots;
  bool open = false;
  for (size_t i = 0; i < ys.size(); ++i) {
    if (!p.plottable(ys[i])) {
      open = false;
      continue;
    }
    const std::string x = px(p.X(epochs[i])), y = px(p.Y(ys[i])), right = px(p.X(epochs[i] + 0.5));
    if (st.step)
      d += open ? fmt::format(" V{} H{}", y, right)
                : fmt::format(" M{} {} H{}", px(p.X(epochs[i] - 0.5)), y, right);
    else
      d += fmt::format(" {}{} {}", open ? 'L' : 'M', x, y);
    if (!st.step && (st.dots || (!open && (i + 1 == ys.size() || !p.plottable(ys[i + 1])))))
      dots +=
          fmt::format("<circle cx='{}' cy='{}' r='{}' fill='{}'/>", x, y, st.width + 0.8, st.color);
    open = true;
  }
  if (d.empty()) return "";
  return fmt::format(
      "<path class='series' d='{}' fill='none' stroke='{}' stroke-width='{}' "
      "stroke-dasharray='{}' stroke-linejoin='round' stroke-linecap='round'/>{}\n",
      d.substr(1), st.color, st.width, st.dash, dots);
}

// Title above the panel, horizontal grid and y tick labels, vertical grid at the x ticks.
std::string panel_axes(const Panel& p, const std::string& title, const std::vector<double>& xticks,
                       Ticks kind) {
  std::string s = fmt::format("<text x='{}' y='{}' font-size='13' font-weight='bold'>{}</text>\n",
                              px(kLeft), px(p.top - 8), esc(title));
  const auto labels = tick_labels(p.y, kind);
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = p.top + p.height - (p.y.ticks[i] - p.y.lo) / (p.y.hi - p.y.lo) * p.height;
    s += fmt::format(
        "<line x1='{0}' x2='{1}' y1='{2}' y2='{2}' stroke='#e4e4e4'/>"
        "<text x='{3}' y='{4}' text-anchor='end' fill='#444'>{5}</text>\n",
        px(kLeft), px(kLeft + kPlotW), px(y), px(kLeft - 6), px(y + 4), labels[i]);
  }
  for (double t : xticks)
    s += fmt::format("<line x1='{0}' x2='{0}' y1='{1}' y2='{2}' stroke='#f0f0f0'/>\n", px(p.X(t)),
                     px(p.top), px(p.bottom()));
  return s;
}

std::string frame(const Panel& p) {
  return fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='none' stroke='#888'/>\n",
                     px(kLeft), px(p.top), px(kPlotW), px(p.height));
}

struct LegendEntry {
  std::string color, label, dash = "none";
  char shape = '-';  // '-' a line, '#' a filled box (phase band), 'o' a ring (best epoch)
};

std::string legend(double top, const std::vector<LegendEntry>& entries, double spacing = 18) {
  std::string s;
  double y = top + 12;
  for (const auto& e : entries) {
    if (e.shape == '#')
      s += fmt::format("<rect x='{}' y='{}' width='22' height='11' fill='{}' fill-opacity='0.6'/>",
                       px(kLegendX), px(y - 9), e.color);
    else if (e.shape == 'o')
      s +=
          fmt::format("<circle cx='{}' cy='{}' r='5' fill='white' stroke='{}' stroke-width='2.2'/>",
                      px(kLegendX + 11), px(y - 4), e.color);
    else
      s += fmt::format(
          "<line x1='{0}' x2='{1}' y1='{2}' y2='{2}' stroke='{3}' stroke-width='2' "
          "stroke-dasharray='{4}'/>",
          px(kLegendX), px(kLegendX + 22), px(y - 4), e.color, e.dash);
    s += fmt::format("<text x='{}' y='{}'>{}</text>\n", px(kLegendX + 28), px(y), esc(e.label));
    y += spacing;
  }
  return s;
}

struct MarkerStyle {
  const char *color, *dash, *legend;
};
constexpr MarkerStyle kMarkerStyles[] = {{"#d62728", "none", "dendrites added"},
                                         {"#8c564b", "6 3", "dendrites reverted"},
                                         {"#777", "2 3", "switch / stop"}};
enum MarkerKind { kAdded, kReverted, kSwitch };

struct Marker {
  double epoch;  // the boundary after this epoch
  MarkerKind kind;
  std::string label, detail;
};

// A transition is an epoch whose record logs an event, or after which the dendrite count changes
// (an install, or a reload of the best checkpoint discarding dendrites that never beat it).
std::vector<Marker> transition_markers(const std::vector<EpochRecord>& h) {
  std::vector<Marker> out;
  for (size_t i = 0; i < h.size(); ++i) {
    const int now = h[i].dendrites, next = i + 1 < h.size() ? h[i + 1].dendrites : now;
    if (h[i].event.empty() && next == now) continue;
    Marker m{h[i].epoch + 0.5, kSwitch, h[i].event, h[i].event};
    if (next != now) {
      m.kind = next > now ? kAdded : kReverted;
      m.label = fmt::format("{}dendrites {} \u2192 {}", next > now ? "" : "reverted: ", now, next);
      m.detail += (m.detail.empty() ? "" : "; ") + m.label;
    }
    if (m.label.size() > 40) {  // cut on a UTF-8 character boundary
      size_t cut = 38;
      while (cut > 0 && (static_cast<unsigned char>(m.label[cut]) & 0xC0) == 0x80) --cut;
      m.label = m.label.substr(0, cut) + "\u2026";
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::string note(const Panel& p, const char* text) {
  return fmt::format("<text x='{}' y='{}' text-anchor='middle' fill='#777'>{}</text>\n",
                     px(kLeft + kPlotW / 2), px(p.top + p.height / 2 + 4), text);
}

// The series the graph plots, one value per epoch record.
struct Series {
  std::vector<double> epochs, train, val, lr, params;
  std::vector<double> train_eval;           // eval-mode train accuracy; NaN where not measured
  std::vector<std::vector<double>> scores;  // per wrapped layer; NaN outside dendrite phases
  std::vector<double> all_scores;           // every finite score, for the score axis
  size_t p_epochs = 0;
};

Series series_of(const std::vector<EpochRecord>& h) {
  Series s;
  size_t layers = 0;
  for (const auto& e : h) {
    s.epochs.push_back(e.epoch);
    s.train.push_back(e.train_acc);
    s.train_eval.push_back(e.train_eval_acc);
    // P epochs do not evaluate; the record repeats the last validation value, so leave a gap.
    s.val.push_back(e.phase == "P" ? kNaN : e.val_acc);
    s.lr.push_back(e.lr);
    s.params.push_back(double(e.params));
    layers = std::max(layers, e.dendrite_scores.size());
    s.p_epochs += e.phase == "P";
  }
  s.scores.assign(layers, std::vector<double>(h.size(), kNaN));
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i].phase != "P") continue;
    for (size_t l = 0; l < h[i].dendrite_scores.size(); ++l) {
      s.scores[l][i] = h[i].dendrite_scores[l];
      if (std::isfinite(s.scores[l][i])) s.all_scores.push_back(s.scores[l][i]);
    }
  }
  return s;
}

// The four stacked panels over a shared epoch axis, where each epoch owns a unit slot centred on
// its number.
struct Layout {
  Panel acc, score, lr, params;
  bool score_log = false;  // the score panel's scale
  std::vector<double> xticks;
  double height() const { return params.bottom() + 48; }
  std::vector<const Panel*> panels() const { return {&acc, &score, &lr, &params}; }
};

Layout layout_of(const Series& s) {
  double e0 = 1, e1 = 1;
  if (!s.epochs.empty()) {
    e0 = *std::min_element(s.epochs.begin(), s.epochs.end());
    e1 = *std::max_element(s.epochs.begin(), s.epochs.end());
  }
  Layout l;
  const double xstep = std::max(1.0, nice_step(e1 - e0 + 1, 12));
  for (double t = std::ceil(e0 / xstep) * xstep; t <= e1; t += xstep) l.xticks.push_back(t);
  if (l.xticks.empty() || (l.xticks.front() - e0 >= xstep / 2))
    l.xticks.insert(l.xticks.begin(), e0);

  std::vector<double> acc = s.train;
  acc.insert(acc.end(), s.val.begin(), s.val.end());
  for (double v : s.train_eval)
    if (std::isfinite(v)) acc.push_back(v);
  l.acc = {80, 250, e0 - 0.5, e1 + 0.5, linear_axis(acc, 0, 1, 0.02)};
  // Layers' scores can differ by orders of magnitude (they scale with each layer's error), so a
  // wide positive range goes on a log scale; otherwise zero stays in view as the baseline.
  double smin = kInf, smax = 0;
  for (double v : s.all_scores) smin = std::min(smin, v), smax = std::max(smax, v);
  l.score_log = !s.all_scores.empty() && smin > 0 && smax / smin > 30;
  std::vector<double> scores = s.all_scores;
  scores.push_back(0);
  l.score = {
      l.acc.bottom() + 46, std::max(130.0, 20.0 + 17.0 * double(s.scores.size())), l.acc.x0,
      l.acc.x1,
      l.score_log ? log_axis(scores) : linear_axis(scores, 0, kInf, smax > 0 ? smax * 1e-3 : 1)};
  if (s.all_scores.empty()) l.score.y.ticks.clear();  // an empty panel with a note needs no scale
  l.lr = {l.score.bottom() + 46, 110, l.acc.x0, l.acc.x1, log_axis(s.lr)};
  l.params = {l.lr.bottom() + 46, 110, l.acc.x0, l.acc.x1,
              linear_axis(s.params, 0, kInf,
                          std::max(2.0, 0.1 * (s.params.empty() ? 1 : s.params.back())))};
  return l;
}

// The SVG's opening, title and one line of figures.
std::string heading(const TrainResult& r, const Series& s, const Layout& l,
                    const std::string& title) {
  const auto& h = r.history;
  std::string out = fmt::format(
      "<?xml version='1.0' encoding='UTF-8'?>\n"
      "<svg xmlns='http://www.w3.org/2000/svg' width='{0}' height='{1}' viewBox='0 0 {0} {1}' "
      "font-family='DejaVu Sans, Arial, Helvetica, sans-serif' font-size='11'>\n"
      "<rect width='100%' height='100%' fill='white'/>\n"
      "<text x='{2}' y='24' font-size='16' font-weight='bold'>{3}</text>\n",
      px(kWidth), px(l.height()), px(kLeft), esc(title));
  if (!h.empty())
    out += fmt::format(
        "<text x='{}' y='46' font-size='12' fill='#444'>best val {:.2f}% @ epoch {} \u00b7 test "
        "{:.2f}% \u00b7 {} epoch{} ({} in dendrite phase) \u00b7 dendrites {} \u00b7 {} "
        "params</text>\n",
        px(kLeft), r.best_val_acc * 100, r.best_epoch, r.test_acc * 100, h.size(),
        h.size() == 1 ? "" : "s", s.p_epochs, h.back().dendrites, fmt_count(s.params.back()));
  return out;
}

// Dendrite-phase bands, one group per run of consecutive P epochs, shaded in every panel.
std::string phase_bands(const std::vector<EpochRecord>& h, const Layout& l) {
  std::string out;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i].phase != "P" || (i > 0 && h[i - 1].phase == "P")) continue;
    size_t j = i;
    while (j + 1 < h.size() && h[j + 1].phase == "P") ++j;
    out += fmt::format("<g class='phase-band'><title>dendrite phase: epochs {}-{}</title>",
                       h[i].epoch, h[j].epoch);
    for (const Panel* p : l.panels())
      out += fmt::format(
          "<rect x='{}' y='{}' width='{}' height='{}' fill='{}' fill-opacity='0.45'/>",
          px(p->X(h[i].epoch - 0.5)), px(p->top),
          px(p->X(h[j].epoch + 0.5) - p->X(h[i].epoch - 0.5)), px(p->height), kBandColor);
    out += "</g>\n";
  }
  return out;
}

// A vertical line through every panel at each transition, labelled in the accuracy panel.
std::string transition_lines(const std::vector<Marker>& markers, const Layout& l) {
  std::string out;
  const Panel& pa = l.acc;
  for (const auto& m : markers) {
    out += fmt::format("<g class='marker'><title>after epoch {}: {}</title>", m.epoch - 0.5,
                       esc(m.detail));
    const MarkerStyle& style = kMarkerStyles[m.kind];
    for (const Panel* p : l.panels())
      out += fmt::format(
          "<line x1='{0}' x2='{0}' y1='{1}' y2='{2}' stroke='{3}' stroke-width='1.4'"
          " stroke-dasharray='{4}'/>",
          px(p->X(m.epoch)), px(p->top), px(p->bottom()), style.color, style.dash);
    // Vertical labels read upwards from the bottom of the accuracy panel, where the curves rarely
    // are after the first epochs; a white halo keeps them legible over the lines, and labels at
    // the right edge go inside the plot.
    const double x = pa.X(m.epoch) > kLeft + kPlotW - 14 ? pa.X(m.epoch) - 4 : pa.X(m.epoch) + 11;
    out += fmt::format(
        "<text transform='translate({},{}) rotate(-90)' font-size='10' fill='{}' "
        "stroke='white' stroke-width='3' paint-order='stroke'>{}</text></g>\n",
        px(x), px(pa.bottom() - 5), style.color, esc(m.label));
  }
  return out;
}

// Train and validation accuracy, the best-validation epoch, and the panel's legend (which also
// explains the bands and transition lines).
std::string accuracy_curves(const TrainResult& r, const Series& s, const Panel& pa,
                            const std::vector<Marker>& markers) {
  const auto& h = r.history;
  std::string out = series_path(pa, s.epochs, s.train, {kTrainColor, 1.6, "5 3"});
  out += series_path(pa, s.epochs, s.val, {kValColor, 2.2});
  std::vector<LegendEntry> entries = {{kValColor, "validation"},
                                      {kTrainColor, "train (train mode)", "5 3"}};
  // The eval-mode train figure (no dropout or noise) is the one that can show overfitting.
  if (std::any_of(s.train_eval.begin(), s.train_eval.end(),
                  [](double v) { return std::isfinite(v); })) {
    out += series_path(pa, s.epochs, s.train_eval, {kTrainColor, 2.2});
    entries.push_back({kTrainColor, "train (eval mode)"});
  }
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i].epoch != r.best_epoch || !std::isfinite(h[i].val_acc)) continue;
    const double x = pa.X(h[i].epoch), y = pa.Y(h[i].val_acc);
    out += fmt::format(
        "<g class='best'><circle cx='{}' cy='{}' r='5' fill='white' stroke='{}' "
        "stroke-width='2.2'/>"
        "<text x='{}' y='{}' text-anchor='{}' font-weight='bold' fill='{}' stroke='white' "
        "stroke-width='3' paint-order='stroke'>best {:.2f}%</text></g>\n",
        px(x), px(y), kValColor, px(x), px(y > pa.top + 24 ? y - 10 : y + 20),
        x > kLeft + kPlotW - 50 ? "end"
        : x < kLeft + 50        ? "start"
                                : "middle",
        kValColor, h[i].val_acc * 100);
    entries.push_back({kValColor, fmt::format("best val (epoch {})", h[i].epoch), "none", 'o'});
    break;
  }
  if (h.empty()) out += note(pa, "no epochs recorded");
  if (s.p_epochs) entries.push_back({kBandColor, "dendrite phase (P)", "none", '#'});
  for (MarkerKind kind : {kAdded, kReverted, kSwitch})
    if (std::any_of(markers.begin(), markers.end(),
                    [&](const Marker& m) { return m.kind == kind; }))
      entries.push_back(
          {kMarkerStyles[kind].color, kMarkerStyles[kind].legend, kMarkerStyles[kind].dash});
  return out + legend(pa.top, entries);
}

// One dendrite-score line per wrapped layer, with its legend.
std::string score_curves(const Series& s, const Panel& ps) {
  std::string out;
  std::vector<LegendEntry> entries;
  for (size_t l = 0; l < s.scores.size(); ++l) {
    const char* color = kLayerColors[l % std::size(kLayerColors)];
    out += series_path(ps, s.epochs, s.scores[l], {color, 1.8, "none", false, true});
    entries.push_back({color, fmt::format("layer {}", l)});
  }
  if (s.all_scores.empty()) out += note(ps, "no dendrite phase");
  return out + legend(ps.top, entries, 17);
}

// Panel frames, and the shared epoch axis under the last panel.
std::string frames_and_epoch_axis(const Layout& l) {
  std::string out;
  for (const Panel* p : l.panels()) out += frame(*p);
  const Panel& pp = l.params;
  for (double t : l.xticks)
    out += fmt::format(
        "<line x1='{0}' x2='{0}' y1='{1}' y2='{2}' stroke='#888'/>"
        "<text x='{0}' y='{3}' text-anchor='middle' fill='#444'>{4}</text>\n",
        px(pp.X(t)), px(pp.bottom()), px(pp.bottom() + 5), px(pp.bottom() + 18), t);
  out += fmt::format("<text x='{}' y='{}' text-anchor='middle' font-size='12'>epoch</text>\n",
                     px(kLeft + kPlotW / 2), px(pp.bottom() + 38));
  return out;
}

}  // namespace

std::string training_graph_svg(const TrainResult& r, const std::string& title) {
  const Series s = series_of(r.history);
  const Layout l = layout_of(s);
  const auto markers = transition_markers(r.history);
  std::string svg = heading(r, s, l, title);
  svg += panel_axes(l.acc, "Accuracy", l.xticks, Ticks::kPercent);
  svg +=
      panel_axes(l.score,
                 l.score_log ? "Dendrite score per wrapped layer (cascade correlation, log scale)"
                             : "Dendrite score per wrapped layer (cascade correlation)",
                 l.xticks, Ticks::kNumber);
  svg += panel_axes(l.lr, "Learning rate (log scale)", l.xticks, Ticks::kNumber);
  svg += panel_axes(l.params, "Parameters", l.xticks, Ticks::kCount);
  svg += phase_bands(r.history, l);
  svg += transition_lines(markers, l);
  svg += accuracy_curves(r, s, l.acc, markers);
  svg += score_curves(s, l.score);
  svg += series_path(l.lr, s.epochs, s.lr, {"#6a3d9a", 1.8, "none", true});
  svg += series_path(l.params, s.epochs, s.params, {"#333", 1.8, "none", true});
  return svg + frames_and_epoch_axis(l) + "</svg>\n";
}

}  // namespace dkws
