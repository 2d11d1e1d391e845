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

# dkws_frozen: runs of a dkws build from before gd's cascade weights trained under pb rules.
SIDES = {"pai": "PerforatedAI", "dkws": "dkws pb", "dkws_frozen": "dkws pb, cascade frozen"}


def mean_sd(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def dkws_dendrites(run_dir):
    """The most dendrites on any wrapped layer of the saved model (gd adds to all at once)."""
    model = json.loads((run_dir / "model.json").read_text())
    return max((layer.get("dendrites", 0) for layer in model["layers"]), default=0)


def read_run(path, side):
    text = path.read_text()
    if side == "pai":
        r = json.loads(text.strip().splitlines()[-1])  # one JSON line, the last
        return {"seed": r["seed"], "test": r["test_accuracy"], "params": r["params"],
                # The tracker's num_epochs_run counts from 0: its best epoch 23 reads 22.
                "base": r["base_params"], "dendrites": r["dendrites"], "epochs": r["epochs"] + 1,
                "trained": r["epochs_trained"], "completed": r["completed"],
                "seconds": r["train_seconds"]}
    r = json.loads(text)
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

    # The two sides draw different random numbers, so seed k on one side is no partner of seed k
    # on the other: the difference of means is judged against its unpaired standard error.
    print()
    print("| arch | placement | arm | dkws side | dkws − PerforatedAI test acc | standard error |")
    print("|---|---|---|---|---:|---:|")
    for (arch, placement, arm, side), runs in sorted(cells.items()):
        ref = cells.get((arch, placement, arm, "pai"))
        if side == "pai" or not ref:
            continue
        (m1, s1), (m2, s2) = mean_sd([r["test"] for r in runs]), mean_sd([r["test"] for r in ref])
        se = (f"{(s1 ** 2 / len(runs) + s2 ** 2 / len(ref)) ** 0.5:.4f}"
              if min(len(runs), len(ref)) > 1 else "-")  # one seed has no spread to judge by
        print(f"| {arch} | {placement} | {arm} | {SIDES[side]} | {m1 - m2:+.4f} | {se} |")

if __name__ == "__main__":
    main()
