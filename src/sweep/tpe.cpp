// Multi-objective TPE (Bergstra et al. 2011; Ozaki et al. 2020 for the Pareto split). The finished
// configs are split into a good set (the first non-dominated fronts on accuracy vs size) and the
// rest; each hyperparameter gets a Parzen estimator per set, l(x) from the good and g(x) from the
// rest, each with a prior component, and the candidate drawn from l maximising l(x)/g(x) (summed
// in log space over independent parameters) is proposed.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "dkws/error.hpp"
#include "dkws/rng.hpp"
#include "dkws/sweep_tpe.hpp"

namespace dkws::sweep {
namespace {

using nlohmann::json;

constexpr double kInf = std::numeric_limits<double>::infinity();

// a dominates b: at least as accurate and as small, better in one.
bool dominates(const TpeObservation& a, const TpeObservation& b) {
  if (!a.ok) return false;
  if (!b.ok) return true;
  return a.val_acc >= b.val_acc && a.params <= b.params &&
         (a.val_acc > b.val_acc || a.params < b.params);
}

// NSGA-II crowding distance of each member of a front (extremes infinite).
std::vector<double> crowding(const std::vector<TpeObservation>& obs,
                             const std::vector<size_t>& front) {
  std::vector<double> d(front.size(), 0);
  auto axis = [&](auto key) {
    std::vector<size_t> order(front.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return key(front[a]) < key(front[b]); });
    const double span = key(front[order.back()]) - key(front[order.front()]);
    d[order.front()] = d[order.back()] = kInf;
    if (span <= 0) return;
    for (size_t i = 1; i + 1 < order.size(); ++i)
      d[order[i]] += (key(front[order[i + 1]]) - key(front[order[i - 1]])) / span;
  };
  axis([&](size_t i) { return obs[i].val_acc; });
  axis([&](size_t i) { return obs[i].params; });
  return d;
}

// A range hyperparameter lives in [a, b] of its (log) space.
double to_space(const ParamSpec& p, double x) {
  return p.log ? std::log(std::max(x, 1e-300)) : x;
}

// A mixture of Gaussians truncated to [a, b]: the prior (centre, width b - a) plus one component
// per observation whose bandwidth is the larger gap to its neighbours (the original TPE rule).
struct Parzen1d {
  double a = 0, b = 1;
  std::vector<double> mu, sigma, log_z;  // log_z: log of the mass inside [a, b]

  Parzen1d(double lo, double hi, std::vector<double> points) : a(lo), b(hi) {
    std::sort(points.begin(), points.end());
    const double width = b - a;
    const double min_sigma = width / std::min(100.0, 1.0 + double(points.size()));
    mu.push_back(0.5 * (a + b));
    sigma.push_back(width);
    for (size_t i = 0; i < points.size(); ++i) {
      const double left = i == 0 ? a : points[i - 1];
      const double right = i + 1 == points.size() ? b : points[i + 1];
      const double s = std::max(points[i] - left, right - points[i]);
      mu.push_back(points[i]);
      sigma.push_back(std::clamp(s, min_sigma, width));
    }
    for (size_t i = 0; i < mu.size(); ++i) {
      const double za = (a - mu[i]) / (sigma[i] * std::sqrt(2.0));
      const double zb = (b - mu[i]) / (sigma[i] * std::sqrt(2.0));
      log_z.push_back(std::log(std::max(0.5 * (std::erf(zb) - std::erf(za)), 1e-300)));
    }
  }

  double log_pdf(double t) const {
    double best = -kInf;
    std::vector<double> terms(mu.size());
    for (size_t i = 0; i < mu.size(); ++i) {
      const double z = (t - mu[i]) / sigma[i];
      terms[i] = -0.5 * z * z - std::log(sigma[i] * std::sqrt(2 * M_PI)) - log_z[i];
      best = std::max(best, terms[i]);
    }
    double sum = 0;
    for (double x : terms) sum += std::exp(x - best);
    return best + std::log(sum) - std::log(double(mu.size()));
  }

  double sample(Rng& rng) const {
    const size_t i = rng.below(mu.size());
    for (int tries = 0; tries < 32; ++tries) {
      const double t = mu[i] + sigma[i] * rng.normal();
      if (t >= a && t <= b) return t;
    }
    return std::clamp(mu[i], a, b);
  }
};

// Smoothed choice frequencies: prior weight 1 per choice.
struct Categorical {
  std::vector<double> log_p;
  Categorical(size_t k, const std::vector<size_t>& picks) : log_p(k) {
    std::vector<double> w(k, 1.0);
    for (size_t c : picks) w[c] += 1;
    const double total = double(k + picks.size());
    for (size_t c = 0; c < k; ++c) log_p[c] = std::log(w[c] / total);
  }
  size_t sample(Rng& rng) const {
    double u = rng.uniform(), acc = 0;
    for (size_t c = 0; c < log_p.size(); ++c) {
      acc += std::exp(log_p[c]);
      if (u < acc) return c;
    }
    return log_p.size() - 1;
  }
};

// Index of a stored value among the choices, or npos (a value no longer in the space).
size_t choice_index(const ParamSpec& p, const json& v) {
  for (size_t c = 0; c < p.choices.size(); ++c)
    if (p.choices[c] == v) return c;
  return std::string::npos;
}

// l(x) and g(x) of one hyperparameter.
struct ParamModel {
  const ParamSpec* p;
  std::vector<Categorical> cat;  // [good, bad] for choices
  std::vector<Parzen1d> num;     // [good, bad] for ranges

  ParamModel(const ParamSpec& spec, const std::vector<TpeObservation>& obs,
             const std::vector<bool>& good)
      : p(&spec) {
    for (bool want : {true, false}) {
      std::vector<size_t> picks;
      std::vector<double> points;
      for (size_t i = 0; i < obs.size(); ++i) {
        if (good[i] != want || !obs[i].hparams.contains(spec.name)) continue;
        const json& v = obs[i].hparams[spec.name];
        if (!spec.is_range) {
          const size_t c = choice_index(spec, v);
          if (c != std::string::npos) picks.push_back(c);
        } else if (v.is_number()) {
          const double t = to_space(spec, v.get<double>());
          points.push_back(std::clamp(t, to_space(spec, spec.lo), to_space(spec, spec.hi)));
        }
      }
      if (spec.is_range)
        num.emplace_back(to_space(spec, spec.lo), to_space(spec, spec.hi), std::move(points));
      else
        cat.emplace_back(spec.choices.size(), picks);
    }
  }

  // A value drawn from l(x), and log l(x) - log g(x) at it.
  std::pair<json, double> draw(Rng& rng) const {
    if (!p->is_range) {
      const size_t c = cat[0].sample(rng);
      return {p->choices[c], cat[0].log_p[c] - cat[1].log_p[c]};
    }
    double x = num[0].sample(rng);
    if (p->log) x = std::exp(x);
    json v;
    if (p->integer) {
      const double r = std::clamp(std::round(x), std::ceil(p->lo), std::floor(p->hi));
      v = int64_t(r);
      x = r;
    } else {
      x = std::clamp(x, p->lo, p->hi);
      v = x;
    }
    const double t = to_space(*p, x);
    return {v, num[0].log_pdf(t) - num[1].log_pdf(t)};
  }
};

}  // namespace

json TpeSettings::to_json() const {
  return {{"startup", startup}, {"batch", batch}, {"gamma", gamma}, {"candidates", candidates}};
}

TpeSettings TpeSettings::from_json(const json& j) {
  TpeSettings s;
  s.startup = j.at("startup").get<size_t>();
  s.batch = j.at("batch").get<size_t>();
  s.gamma = j.at("gamma").get<double>();
  s.candidates = j.at("candidates").get<int>();
  return s;
}

std::vector<TpeObservation> tpe_observations(const std::vector<TrialRow>& rows) {
  struct Acc {
    json hparams;
    size_t done = 0, open = 0;
    double val = 0, params = 0;
  };
  std::map<int, Acc> by_config;
  for (const TrialRow& r : rows) {
    Acc& a = by_config[r.spec.config_id];
    a.hparams = r.spec.hparams;
    if (r.status == "done" && r.result.is_object()) {
      ++a.done;
      a.val += r.result.value("val_acc", 0.0);
      a.params += r.result.value("params", 0.0);
    } else if (r.status != "failed") {
      ++a.open;
    }
  }
  std::vector<TpeObservation> out;
  for (const auto& [id, a] : by_config) {
    if (a.open) continue;
    TpeObservation o;
    o.hparams = a.hparams;
    o.ok = a.done > 0;
    if (o.ok) o.val_acc = a.val / double(a.done), o.params = a.params / double(a.done);
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<size_t> tpe_good_set(const std::vector<TpeObservation>& obs, double gamma) {
  const size_t n = obs.size();
  if (n == 0) return {};
  const size_t want = std::min(n, std::max<size_t>(1, size_t(std::ceil(gamma * double(n)))));
  std::vector<size_t> good;
  std::vector<bool> taken(n, false);
  while (good.size() < want) {
    // The next front: untaken points no untaken point dominates (failed ones come last).
    std::vector<size_t> front;
    for (size_t i = 0; i < n; ++i) {
      if (taken[i]) continue;
      bool dominated = false;
      for (size_t j = 0; j < n && !dominated; ++j)
        dominated = !taken[j] && j != i && dominates(obs[j], obs[i]);
      if (!dominated) front.push_back(i);
    }
    if (good.size() + front.size() > want) {
      const std::vector<double> d = crowding(obs, front);
      std::vector<size_t> order(front.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return d[a] > d[b]; });
      std::vector<size_t> keep;
      for (size_t i = 0; i < want - good.size(); ++i) keep.push_back(front[order[i]]);
      std::sort(keep.begin(), keep.end());
      front = keep;
    }
    for (size_t i : front) taken[i] = true, good.push_back(i);
  }
  std::sort(good.begin(), good.end());
  return good;
}

int tpe_round_of(int config_id, const TpeSettings& s) {
  if (config_id <= int(s.startup)) return 0;
  return 1 + (config_id - int(s.startup) - 1) / int(std::max<size_t>(1, s.batch));
}

std::vector<json> tpe_propose(const SearchSpace& space, const std::vector<TpeObservation>& obs,
                              const std::vector<json>& existing, size_t n, uint64_t seed, int round,
                              const TpeSettings& s) {
  if (round < 1) throw Error("tpe: round 0 is the random startup, not a model round");
  std::vector<bool> good(obs.size(), false);
  for (size_t i : tpe_good_set(obs, s.gamma)) good[i] = true;
  std::vector<ParamModel> models;
  for (const ParamSpec& p : space.params) models.emplace_back(p, obs, good);

  Rng rng(seed * 0x9E3779B97F4A7C15ull ^ (uint64_t(round) * 0xD1B54A32D192ED03ull + 0x7F4A7C15ull));
  std::vector<json> seen = existing, out;
  auto is_new = [&](const json& h) { return std::find(seen.begin(), seen.end(), h) == seen.end(); };
  for (size_t k = 0; k < n; ++k) {
    json best;
    double best_score = -kInf;
    json fallback;  // the first draw, used only when every candidate repeats a config
    // A small space can run out of new configs near l's mode: a few more batches of candidates.
    for (int batch = 0; batch < 4 && best.is_null(); ++batch) {
      for (int c = 0; c < s.candidates; ++c) {
        json h = json::object();
        double score = 0;
        for (const ParamModel& m : models) {
          auto [v, ratio] = m.draw(rng);
          h[m.p->name] = std::move(v);
          score += ratio;
        }
        if (fallback.is_null()) fallback = h;
        if (is_new(h) && score > best_score) best_score = score, best = std::move(h);
      }
    }
    if (best.is_null()) best = fallback;
    seen.push_back(best);
    out.push_back(std::move(best));
  }
  return out;
}

}  // namespace dkws::sweep
