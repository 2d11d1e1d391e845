// The bootstrap's replicates over seeds and test clips together. A replicate draws seeds with
// replacement and, when the sweep recorded per-clip correctness, the validation clips and the test
// clips with replacement; the same draw serves every configuration and every arm, so differences
// between arms are paired on seeds and on clips. Each trial's accuracies are recomputed over the
// drawn clips before the selection by validation is redone.
#include <set>

#include <fmt/core.h>

#include "dkws/rng.hpp"
#include "report/sweep_internal.hpp"

namespace dkws::sweep_detail {
namespace {

ClipDraw draw_clips(size_t n, Rng& rng) {
  std::vector<int> count(n, 0);
  for (size_t i = 0; i < n; ++i) ++count[rng.below(n)];
  ClipDraw d;
  for (size_t k = 0;; ++k) {
    std::vector<uint64_t> layer((n + 63) / 64, 0);
    bool any = false;
    for (size_t i = 0; i < n; ++i)
      if (size_t(count[i]) > k) layer[i / 64] |= uint64_t(1) << (i % 64), any = true;
    if (!any) break;
    d.layers.push_back(std::move(layer));
  }
  return d;
}

}  // namespace

ClipDesign clip_design(const std::vector<SweepTrial>& trials) {
  ClipDesign d;
  std::set<std::string> val_sets, test_sets;
  size_t done = 0, missing = 0;
  for (const auto& t : trials) {
    if (!t.done()) continue;
    ++done;
    if (!t.val_clips || !t.test_clips) {
      ++missing;
      continue;
    }
    val_sets.insert(t.val_clips->set + "/" + std::to_string(t.val_clips->n));
    test_sets.insert(t.test_clips->set + "/" + std::to_string(t.test_clips->n));
    d.n_val = t.val_clips->n, d.n_test = t.test_clips->n;
  }
  if (done == 0) {
    d.note = "no finished trial";
  } else if (missing > 0) {
    d.note = fmt::format(
        "{} of {} finished trials carry no per-clip results (recorded before `dkws sweep` kept "
        "them), so the intervals resample seeds only and do not include test-set sampling",
        missing, done);
  } else if (val_sets.size() > 1 || test_sets.size() > 1) {
    d.note = fmt::format(
        "the trials were scored on {} different validation and {} different test sets, so clips "
        "cannot be paired across trials; the intervals resample seeds only",
        val_sets.size(), test_sets.size());
  } else {
    d.usable = true;
    d.note = fmt::format("seeds and clips resampled together ({} validation and {} test clips)",
                         d.n_val, d.n_test);
  }
  if (!d.usable) d.n_val = d.n_test = 0;
  return d;
}

std::vector<Draw> resample_draws(size_t n_seeds, const ClipDesign& design, int max_draws,
                                 uint64_t seed) {
  std::vector<Draw> out;
  if (!design.usable) {
    for (auto& w : bootstrap_draws(n_seeds, max_draws, seed))
      out.push_back({std::move(w), false, {}, {}});
    return out;
  }
  Rng rng(seed);
  for (int k = 0; k < max_draws; ++k) {
    Draw d;
    d.seeds.assign(n_seeds, 0);
    for (size_t i = 0; i < n_seeds; ++i) ++d.seeds[rng.below(n_seeds)];
    d.clips = true;
    d.val = draw_clips(design.n_val, rng);
    d.test = draw_clips(design.n_test, rng);
    out.push_back(std::move(d));
  }
  return out;
}

ArmTable reweighted(const ArmTable& t, const Draw& d, bool report_is_test) {
  if (!d.clips) return t;
  ArmTable r = t;
  for (Cell& c : r.cells) {
    if (!c.ok || !c.trial) continue;
    c.val = weighted_share(*c.trial->val_clips, d.val);
    if (report_is_test) c.report = weighted_share(*c.trial->test_clips, d.test);
  }
  return r;
}

}  // namespace dkws::sweep_detail
