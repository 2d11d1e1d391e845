#!/usr/bin/env python3
"""Summarises scripts/pb_rules.sh's runs (OUT/<arch>/<rules>/<arm>/seed<N>/metrics.json) as
Markdown: per arch, arm and rule set the test accuracy (mean +- sd over seeds), final parameters,
the share of runs that kept at least one dendrite, epochs (kept, and trained including those a pb
reload discarded) and seconds per trial; then the pb / classic time ratio per arm.
Standard library only."""
import json
import statistics
import sys
from pathlib import Path

ARMS = ("none", "restart", "gd", "cc")
root = Path(sys.argv[1])


def mean_sd(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


rows, seconds = [], {}
for arch in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
    for arm in ARMS:
        for rules in ("classic", "pb"):
            runs = [json.loads(m.read_text())
                    for m in sorted((arch / rules / arm).glob("seed*/metrics.json"))]
            if not runs:
                continue
            acc, acc_sd = mean_sd([r["test_accuracy"] for r in runs])
            kept = (f"{sum(r['params'] > r['params_base'] for r in runs)}/{len(runs)}"
                    if arm in ("gd", "cc") else "-")
            secs = statistics.mean(r["train_seconds"] for r in runs)
            seconds.setdefault(arm, {}).setdefault(rules, []).append(secs)
            rows.append((arch.name, runs[0]["task"], arm, rules, len(runs), acc, acc_sd,
                         runs[0]["params_base"], statistics.mean(r["params"] for r in runs), kept,
                         statistics.mean(r["epochs"] for r in runs),
                         statistics.mean(r.get("epochs_trained", r["epochs"]) for r in runs),
                         secs))

print("| arch | task | arm | rules | runs | test acc (mean ± sd) | base params | final params "
      "(mean) | kept >= 1 dendrite | epochs kept | epochs trained | seconds per trial |")
print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for (a, task, arm, rules, n, acc, sd, pb, p, kept, ep, tr, sec) in rows:
    print(f"| {a} | {task} | {arm} | {rules} | {n} | {acc:.4f} ± {sd:.4f} | {pb} | {p:.0f} | "
          f"{kept} | {ep:.0f} | {tr:.0f} | {sec:.1f} |")
print()
print("| arm | seconds per trial, classic | pb | pb / classic |")
print("|---|---:|---:|---:|")
for arm in ARMS:
    s = seconds.get(arm, {})
    if "classic" in s and "pb" in s:
        c, p = statistics.mean(s["classic"]), statistics.mean(s["pb"])
        print(f"| {arm} | {c:.1f} | {p:.1f} | {p / c:.2f} |")
