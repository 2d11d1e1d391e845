// Statistical primitives of the sweep analysis: quantiles, the validation-selected Pareto
// frontier, hypervolume in (log10 size, accuracy) space and the log-spaced budget grid.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "dkws/error.hpp"
#include "dkws/sweep_analysis.hpp"

namespace dkws {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) throw Error("quantile of an empty set");
  std::sort(v.begin(), v.end());
  const double h = (double(v.size()) - 1) * std::clamp(q, 0.0, 1.0);
  const size_t i = size_t(std::floor(h));
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (h - double(i)) * (v[i + 1] - v[i]);
}

std::vector<size_t> pareto_frontier(const std::vector<Point>& pts) {
  std::vector<size_t> order(pts.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (pts[a].size != pts[b].size) return pts[a].size < pts[b].size;
    if (pts[a].select != pts[b].select) return pts[a].select > pts[b].select;
    return pts[a].id < pts[b].id;
  });
  std::vector<size_t> front;
  double best = -std::numeric_limits<double>::infinity();
  for (size_t i : order)
    if (pts[i].select > best) best = pts[i].select, front.push_back(i);
  return front;
}

// The dominated region is the area under the staircase "best report among points no larger than
// x", from the smallest point to ref_size and above ref_report: sum it segment by segment.
double hypervolume(const std::vector<Point>& pts, double ref_size, double ref_report) {
  std::vector<std::pair<double, double>> xy;
  const double x_ref = std::log10(ref_size);
  for (const auto& p : pts)
    if (p.size > 0 && std::log10(p.size) < x_ref) xy.emplace_back(std::log10(p.size), p.report);
  std::sort(xy.begin(), xy.end());
  double area = 0, y_best = ref_report;
  for (size_t i = 0; i < xy.size(); ++i) {
    y_best = std::max(y_best, xy[i].second);
    const double x_next = i + 1 < xy.size() ? xy[i + 1].first : x_ref;
    area += (y_best - ref_report) * (x_next - xy[i].first);
  }
  return area;
}

std::vector<double> budget_grid(double lo, double hi, int per_decade,
                                const std::vector<double>& extra) {
  std::vector<double> out;
  if (lo > 0 && hi >= lo && per_decade > 0) {
    auto value = [&](int k) {
      const double v = std::pow(10.0, double(k) / per_decade);
      const double mag = std::pow(10.0, std::floor(std::log10(v)) - 1);  // 2 significant digits
      return std::round(v / mag) * mag;
    };
    int k = int(std::floor(per_decade * std::log10(lo))) - 1;
    while (value(k) < lo * (1 - 1e-12)) ++k;
    for (;; ++k) {
      out.push_back(value(k));
      if (value(k) >= hi * (1 - 1e-12)) break;
    }
  }
  for (double e : extra)
    if (e > 0) out.push_back(e);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end(),
                        [](double a, double b) { return std::abs(a - b) <= 1e-9 * b; }),
            out.end());
  return out;
}

}  // namespace dkws
