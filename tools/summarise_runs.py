#!/usr/bin/env python3
"""Summarises runs laid out as OUT/<arch>/<mode>/seed<N>/metrics.json into a Markdown table:
parameters with dendrites, mean and std test accuracy, epochs and wall time per (arch, mode).
Standard library only."""
import json
import statistics
import sys
from pathlib import Path

root = Path(sys.argv[1])
rows = []
for arch in sorted(p for p in root.iterdir() if p.is_dir()):
    for mode in ("none", "gd", "cc"):
        runs = [json.loads(m.read_text()) for m in sorted((arch / mode).glob("seed*/metrics.json"))]
        if not runs:
            continue
        acc = [r["test_accuracy"] for r in runs]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        rows.append((arch.name, mode, runs[0]["params_base"],
                     statistics.mean(r["params"] for r in runs), statistics.mean(acc), sd,
                     statistics.mean(r["epochs"] for r in runs),
                     statistics.mean(r["train_seconds"] for r in runs), len(runs)))
print("| arch | mode | base params | params (with dendrites, mean) | test acc mean | std | epochs | seconds | seeds |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for a, m, pb, p, mean, sd, ep, sec, n in rows:
    print(f"| {a} | {m} | {pb} | {p:.0f} | {mean:.4f} | {sd:.4f} | {ep:.0f} | {sec:.1f} | {n} |")
