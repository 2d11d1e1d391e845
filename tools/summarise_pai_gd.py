#!/usr/bin/env python3
"""Summarises scripts/pai_gd.sh's runs (OUT/<arch>/<placement>/<side>/<arm>/seed<N>/result.json)
as Markdown, one row per cell: runs, the share that kept at least one dendrite, dendrites kept
(mean and range), epochs (the tracker's counter at the end, and every epoch run), test accuracy
(mean +- sd over seeds) and parameters (base, final mean); then paired by seed, dkws minus
PerforatedAI test accuracy. Writes every run to OUT/runs.csv. Standard library only."""
import csv
import json
import statistics
import sys
from pathlib import Path

SIDES = {"pai": "PerforatedAI", "dkws": "dkws pb"}


def mean_sd(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def dkws_dendrites(run_dir):
    """The most dendrites on any wrapped layer of the saved model (gd adds to all at once)."""
    model = json.loads((run_dir / "model.json").read_text())
    return max((layer.get("dendrites", 0) for layer in model["layers"]), default=0)


def read_run(path, side):
    r = json.loads(path.read_text())
    if side == "pai":
        return {"seed": r["seed"], "test": r["test_accuracy"], "params": r["params"],
                "base": r["base_params"], "dendrites": r["dendrites"], "epochs": r["epochs"],
                "trained": r["epochs_trained"], "completed": r["completed"],
                "seconds": r["train_seconds"]}
    completed = any(t["action"] == "complete" for t in r.get("transitions", []))
    return {"seed": r["seed"], "test": r["test_accuracy"], "params": r["params"],
            "base": r["params_base"], "dendrites": dkws_dendrites(path.parent / "run"),
            "epochs": r["epochs"], "trained": r["epochs_trained"], "completed": completed,
            "seconds": r["train_seconds"]}


def main():
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: summarise_pai_gd.py OUT (the folder scripts/pai_gd.sh wrote)")
    root = Path(sys.argv[1])
    cells, flat = {}, []
    for path in sorted(root.glob("*/*/*/*/seed*/result.json")):
        arch, placement, side, arm = path.parts[-6:-2]
        run = read_run(path, side)
        cells.setdefault((arch, placement, arm, side), []).append(run)
        flat.append({"arch": arch, "placement": placement, "arm": arm, "side": side, **run})
    with open(root / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(flat[0].keys()) if flat else ["arch"])
        writer.writeheader()
        writer.writerows(flat)

    print("| arch | placement | arm | side | runs | kept >= 1 dendrite | dendrites kept (mean, "
          "range) | completed | epochs (counter) | epochs trained | test acc (mean ± sd) | "
          "base params | params (mean) |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (arch, placement, arm, side), runs in sorted(cells.items()):
        acc, sd = mean_sd([r["test"] for r in runs])
        d = [r["dendrites"] for r in runs]
        kept = f"{sum(x > 0 for x in d)}/{len(runs)}" if arm == "gd" else "-"
        dend = f"{statistics.mean(d):.1f} ({min(d)}-{max(d)})" if arm == "gd" else "-"
        print(f"| {arch} | {placement} | {arm} | {SIDES[side]} | {len(runs)} | {kept} | {dend} | "
              f"{sum(r['completed'] for r in runs)}/{len(runs)} | "
              f"{statistics.mean(r['epochs'] for r in runs):.0f} | "
              f"{statistics.mean(r['trained'] for r in runs):.0f} | {acc:.4f} ± {sd:.4f} | "
              f"{runs[0]['base']} | {statistics.mean(r['params'] for r in runs):.0f} |")

    print()
    print("| arch | placement | arm | seeds | dkws − PerforatedAI test acc (mean ± sd) |")
    print("|---|---|---|---:|---:|")
    for (arch, placement, arm, side), runs in sorted(cells.items()):
        if side != "dkws" or (arch, placement, arm, "pai") not in cells:
            continue
        ref = {r["seed"]: r["test"] for r in cells[(arch, placement, arm, "pai")]}
        diffs = [r["test"] - ref[r["seed"]] for r in runs if r["seed"] in ref]
        if diffs:
            m, s = mean_sd(diffs)
            print(f"| {arch} | {placement} | {arm} | {len(diffs)} | {m:+.4f} ± {s:.4f} |")


if __name__ == "__main__":
    main()
