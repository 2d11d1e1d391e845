#!/usr/bin/env python3
"""The answer table of docs/results/experiment.md from the runs' sweep reports.

    python3 scripts/experiment_table.py docs/results/experiment/kws12-fixed [more run folders]

Each folder holds what `dkws report SWEEP --out FOLDER` writes (analysis.json, trials.csv). Prints,
per run and budget (1,500 and 4,000 parameters): each arm's validation-selected test accuracy with
its 95% bootstrap interval, the dendritic arms' differences against none and restart with interval
and p, the minimum detectable difference at 80% power, and how many of the picked trials carry a
dendrite; then per run the trial counts and the check that every finished gd and cc trial of a
fixed-switch run carries at least one dendrite. Standard library only.
"""
import csv
import json
import os
import sys

BUDGETS = (1500.0, 4000.0)
ARMS = ("none", "restart", "gd", "cc")
PAIRS = (("gd", "none"), ("gd", "restart"), ("cc", "none"), ("cc", "restart"))


def pct(x):
    return f"{100 * x:.1f}"


def pick_cell(budget_row):
    if not budget_row or not budget_row.get("feasible"):
        return "-"
    lo, hi = budget_row["ci95"]
    return f"{pct(budget_row['test'])} [{pct(lo)}, {pct(hi)}]"


def effect_cell(effect, budget):
    if effect is None or budget not in effect["budgets"]:
        return "-", None
    i = effect["budgets"].index(budget)
    lo, hi = effect["ci95"][i]
    cell = f"{100 * effect['diff'][i]:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] p={effect['p'][i]:.3f}"
    return cell, effect["mde80"][i]


def run_rows(folder):
    a = json.load(open(os.path.join(folder, "analysis.json")))["params"]
    arms = {x["arm"]: x for x in a["arms"]}
    effects = {(e["a"], e["b"]): e for e in a["effects"]}
    rows = []
    for budget in BUDGETS:
        picks = {}
        for arm in ARMS:
            b = next((x for x in arms[arm]["budgets"] if x["budget"] == budget), None) if arm in arms else None
            picks[arm] = b
        cells = [pick_cell(picks[arm]) for arm in ARMS]
        mdes = []
        for pair in PAIRS:
            cell, mde = effect_cell(effects.get(pair), budget)
            cells.append(cell)
            if mde is not None:
                mdes.append(mde)
        cells.append(f"{100 * min(mdes):.1f}-{100 * max(mdes):.1f}" if mdes else "-")
        with_dendrites = []
        for arm in ("gd", "cc"):
            b = picks[arm]
            with_dendrites.append(
                f"{b['trials_with_dendrites']}/{b['n_seeds']}" if b and b.get("feasible") else "-")
        cells.append(" / ".join(with_dendrites))
        rows.append((budget, cells))
    share = " / ".join(
        f"{arms[arm]['frontier_trials_with_dendrites']}/{arms[arm]['frontier_trials']}" for arm in ("gd", "cc") if arm in arms)
    return rows, share


def trial_checks(folder):
    with open(os.path.join(folder, "trials.csv")) as f:
        trials = list(csv.DictReader(f))
    done = [t for t in trials if t["status"] == "done"]
    dendritic = [t for t in done if t["arm"] in ("gd", "cc")]
    without = [t for t in dendritic if int(t["dendrites"]) == 0]
    epochs = {}
    for t in done:
        epochs.setdefault(t["arm"], set()).add(int(t["epochs"]))
    return len(trials), len(done), len(dendritic), len(without), epochs


def main(folders):
    head = ["run", "budget"] + [f"{arm}" for arm in ARMS] + [f"{a} − {b}" for a, b in PAIRS] + [
        "MDE (80%)", "picks with dendrites (gd / cc)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    notes = []
    for folder in folders:
        name = os.path.basename(os.path.normpath(folder))
        rows, share = run_rows(folder)
        for budget, cells in rows:
            print(f"| {name} | {int(budget):,} | " + " | ".join(cells) + " |")
        n, done, dendritic, without, epochs = trial_checks(folder)
        ep = "; ".join(f"{arm} {sorted(v)[0]}" + (f"-{sorted(v)[-1]}" if len(v) > 1 else "") for arm, v in sorted(epochs.items()))
        notes.append(f"- {name}: {done} of {n} trials done; frontier trials with dendrites (gd / cc): {share}; "
                     f"finished gd and cc trials without a dendrite: {without} of {dendritic}; epochs trained per arm: {ep}")
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
