#!/usr/bin/python3
"""Per sweep folder OUT/<sampler>-<seed>: the area under the validation-selected curve of test (and
validation) accuracy against the parameter budget, averaged over log10 budgets from 300 to 600,000
(higher is better: good models at every size), the validation-selected test accuracy at 1,500 and
4,000 parameters, and how many configs fell under 4,000. Then the mean per sampler.

    python3 scripts/sampler_metrics.py OUT
"""
import glob
import json
import math
import os
import sys


def best_within(done, budget, key):
    fit = [t for t in done if t["params"] <= budget]
    return max(fit, key=lambda t: t["val_acc"])[key] if fit else 0.0


def area(done, key, lo=math.log10(300), hi=math.log10(600000), steps=2000):
    grid = [lo + (hi - lo) * i / steps for i in range(steps + 1)]
    return sum(best_within(done, 10 ** g, key) for g in grid) / len(grid)


def main():
    out = sys.argv[1]
    rows = {}
    print(f"{'sweep':<12} {'area val':>9} {'area test':>9} {'@1500':>7} {'@4000':>7} {'<=4000':>7}")
    for folder in sorted(glob.glob(os.path.join(out, "*-*"))):
        trials = os.path.join(folder, "trials.json")
        if not os.path.exists(trials):
            continue
        done = [t for t in json.load(open(trials))["trials"] if t["status"] == "done"]
        r = (area(done, "val_acc"), area(done, "test_acc"), best_within(done, 1500, "test_acc"),
             best_within(done, 4000, "test_acc"), sum(t["params"] <= 4000 for t in done))
        rows.setdefault(os.path.basename(folder).split("-")[0], []).append(r)
        print(f"{os.path.basename(folder):<12} {r[0]:9.3f} {r[1]:9.3f} {r[2]:7.3f} {r[3]:7.3f} {r[4]:7d}")
    for sampler, rs in rows.items():
        m = [sum(r[i] for r in rs) / len(rs) for i in range(5)]
        print(f"{sampler + ' mean':<12} {m[0]:9.3f} {m[1]:9.3f} {m[2]:7.3f} {m[3]:7.3f} {m[4]:7.1f}")


if __name__ == "__main__":
    main()
