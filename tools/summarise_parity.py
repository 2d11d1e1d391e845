#!/usr/bin/env python3
"""Summarises scripts/ac_parity.sh runs laid out as OUT/<config>/<protocol>/<side>/seed<N>/result.json
into a Markdown table: per configuration and protocol, each side's test accuracy (mean +- sd over
seeds), parameters and epochs, and dkws minus PyTorch with whether it meets the parity rule (within
1.5 points, or within the larger of the two seed spreads). Standard library only."""
import json
import statistics
import sys
from pathlib import Path

SIDES = ("dkws", "torch", "dkws_conv")


def stats(runs, key):
    vals = [r[key] for r in runs]
    return statistics.mean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def main():
    root = Path(sys.argv[1])
    print("| config | protocol | params | dkws (paper model) | PyTorch (paper model) | dkws - PyTorch | "
          "parity | dkws earlier variant | epochs dkws / torch | seeds |")
    print("|---|---|---:|---:|---:|---:|---|---:|---|---:|")
    for cfg in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "features"):
        for proto in ("early", "fixed"):
            runs = {s: [json.loads(f.read_text()) for f in sorted((cfg / proto / s).glob("seed*/result.json"))]
                    for s in SIDES}
            if not runs["dkws"] or not runs["torch"]:
                continue
            (dm, ds), (tm, ts) = stats(runs["dkws"], "test_accuracy"), stats(runs["torch"], "test_accuracy")
            diff = 100 * (dm - tm)
            ok = abs(diff) <= max(1.5, 100 * max(ds, ts))
            conv = runs["dkws_conv"]
            conv_txt = "{:.3f} ± {:.3f}".format(*stats(conv, "test_accuracy")) if conv else "-"
            ep = "{:.0f} / {:.0f}".format(stats(runs["dkws"], "epochs")[0], stats(runs["torch"], "epochs")[0])
            print(f"| {cfg.name} | {proto} | {runs['dkws'][0]['params']} | {dm:.3f} ± {ds:.3f} | "
                  f"{tm:.3f} ± {ts:.3f} | {diff:+.1f} pt | {'yes' if ok else 'NO'} | {conv_txt} | {ep} | "
                  f"{len(runs['dkws'])}/{len(runs['torch'])} |")


if __name__ == "__main__":
    main()
