#!/usr/bin/env python3
"""Summarise scripts/recipe.sh runs: test accuracy mean +- sd over seeds per technique (rows) and
model (columns), the validation-chosen best under each budget, and wall times. Markdown on stdout.

    python3 scripts/recipe_table.py runs/recipe
"""
import json
import statistics
import sys
from pathlib import Path

BUDGETS = (1500, 4000)
ROW_ORDER = ("baseline", "cosine", "onecycle", "smooth", "mixup", "distill", "combined",
             "combined_mixup", "distill_t2", "combined_onecycle", "onecycle_long", "distill_long", "combined_long",
             "synth_mix", "synth_pretrain")


def cell(values):
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def is_long(row):
    """Rows trained three times the epochs (scripts/recipe.sh): the *_long ones and the
    synthetic-data rows, which add synthetic speech to onecycle_long."""
    return row.endswith("_long") or row.startswith("synth_")


def x_epochs(runs, model, long):
    for (m, r), xs in runs.items():
        if m == model and is_long(r) == long:
            return xs[0]["epochs"]
    return "?"


def main(out):
    runs = {}  # (model, row) -> list of metrics
    for metrics in sorted(out.glob("*/*/seed*/metrics.json")):
        model, row = metrics.parts[-4], metrics.parts[-3]
        m = json.loads(metrics.read_text())
        wall = metrics.parent.with_suffix(".wall")
        try:
            m["wall"] = float(wall.read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            m["wall"] = None  # missing, or the run was interrupted and resumed
        train_eval = metrics.parent / "train_eval.json"
        m["train_eval"] = (json.loads(train_eval.read_text())["accuracy"]
                           if train_eval.exists() else None)
        runs.setdefault((model, row), []).append(m)
    if not runs:
        sys.exit(f"{out}: no runs (OUT/<model>/<row>/seed<k>/metrics.json)")
    params = {}
    for (m, _), xs in runs.items():
        params[m] = xs[0]["params"]
    models = sorted(params, key=params.get)
    # scripts/recipe.sh's order: the baseline, each technique alone, then the combinations.
    rows = [r for r in ROW_ORDER if any(k[1] == r for k in runs)]
    rows += sorted({r for (_, r) in runs} - set(rows))
    print("| technique | " + " | ".join(f"{m} ({params[m]:,} params)" for m in models) +
          " | seeds |")
    print("|---|" + "---:|" * len(models) + "---:|")
    for r in rows:
        cells = [cell([x["test_accuracy"] for x in runs.get((m, r), [])]) for m in models]
        seeds = max(len(runs.get((m, r), [])) for m in models)
        print(f"| {r} | " + " | ".join(cells) + f" | {seeds} |")
    print()
    print("Train accuracy in eval mode of the chosen checkpoints, and its gap to validation "
          "(mean over seeds):")
    print()
    print("| technique | " + " | ".join(f"{m} train / val / gap" for m in models) + " |")
    print("|---|" + "---:|" * len(models))
    for r in rows:
        cells = []
        for m in models:
            xs = [x for x in runs.get((m, r), []) if x["train_eval"] is not None]
            if not xs:
                cells.append("-")
                continue
            tr = statistics.mean(x["train_eval"] for x in xs)
            va = statistics.mean(x["val_accuracy"] for x in xs)
            cells.append(f"{tr:.3f} / {va:.3f} / {tr - va:+.3f}")
        print(f"| {r} | " + " | ".join(cells) + " |")
    print()
    for budget in BUDGETS:
        # The technique/model pair with the best mean validation accuracy under the budget, and
        # its test accuracy: the model is chosen on validation, never on test.
        best = None
        for (m, r), xs in runs.items():
            if params[m] > budget:
                continue
            val = statistics.mean(x["val_accuracy"] for x in xs)
            if best is None or val > best[0]:
                best = (val, m, r, [x["test_accuracy"] for x in xs])
        if best:
            print(f"- <= {budget:,} parameters: best by validation is {best[2]} on {best[1]} "
                  f"(val {best[0]:.3f}), test {cell(best[3])} over {len(best[3])} seeds")
    # Wall times on a shared machine, per model and epoch count (60 or 180).
    for m in models:
        for long in (False, True):
            walls = [x["wall"] for (mm, r), xs in runs.items() if mm == m
                     and is_long(r) == long for x in xs if x["wall"]]
            if walls:
                print(f"- {m}, {x_epochs(runs, m, long)} epochs: wall time per run median "
                      f"{statistics.median(walls):.0f} s, max {max(walls):.0f} s "
                      f"({len(walls)} runs)")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/recipe"))
