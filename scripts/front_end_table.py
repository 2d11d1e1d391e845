#!/usr/bin/env python3
"""Summarise scripts/front_end.sh runs: per front end and budget, the DS-CNN's parameters, test
accuracy mean +- sd over seeds (validation beside it), and seed 1's int8 accuracy and firmware
figures (flash, RAM, instructions per inference, the front end's share). Markdown on stdout.

    python3 scripts/front_end_table.py runs/front_end
"""
import json
import statistics
import sys
from pathlib import Path

from recipe_table import cell as mean_sd  # "mean ± sd" over seeds, as the recipe table writes it

ORDER = ("mfcc13", "mfcc13_f40", "mfcc10", "mfcc20", "mfe40", "mfe32", "mfe20", "mfe40_s10")


def shape(config):
    fe = config["front_end"]
    p = fe["params"]
    frames = round((fe["window_seconds"] - p["frame_length"]) / p["frame_stride"]) + 1
    coeffs = p["num_filters"] if fe["block"] == "mfe" else p["num_cepstral"]
    detail = f'{p["num_filters"]} filters' if fe["block"] == "mfcc" else ""
    return f'{fe["block"].upper()} {frames} x {coeffs}' + (f" ({detail})" if detail else "")


def main(out):
    print("| front end | budget | channels | params | test accuracy | val accuracy | seeds "
          "| seed 1 float / int8 test | flash | RAM | instructions per inference | of which front end |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    best = {}  # budget -> (mean val, front end): the validation's choice, test never picks
    variants = sorted((d for d in out.iterdir() if d.is_dir() and d.name != "logs"),
                      key=lambda d: ORDER.index(d.name) if d.name in ORDER else len(ORDER))
    for v in variants:
        for budget in sorted(v.iterdir(), key=lambda d: int(d.name) if d.name.isdigit() else 0):
            runs = [json.loads(m.read_text()) for m in sorted(budget.glob("seed*/metrics.json"))]
            if not runs:
                continue
            cfg = json.loads((budget / "seed1" / "model.json").read_text())["config"] \
                if (budget / "seed1" / "model.json").exists() else None
            fw_path = budget / "seed1" / "export" / "firmware.json"
            fw = json.loads(fw_path.read_text()) if fw_path.exists() else {}
            seed1 = json.loads((budget / "seed1" / "metrics.json").read_text()) \
                if (budget / "seed1" / "metrics.json").exists() else {}
            int8 = seed1.get("int8_test_accuracy")
            val = statistics.mean(r["val_accuracy"] for r in runs)
            name = shape(cfg) if cfg else v.name
            if val > best.get(budget.name, (-1, ""))[0]:
                best[budget.name] = (val, name, mean_sd([r["test_accuracy"] for r in runs]))
            channels = int(16 * cfg["model"]["width"]) if cfg else "?"
            cells = [name, budget.name, str(channels),
                     f'{runs[0]["params"]:,}',
                     mean_sd([r["test_accuracy"] for r in runs]),
                     mean_sd([r["val_accuracy"] for r in runs]), str(len(runs)),
                     f'{seed1["test_accuracy"]:.3f} / {int8:.3f}' if int8 is not None else "-",
                     f'{fw["flash_bytes"]:,} B' if fw else "-",
                     f'{fw["ram_bytes"]:,} B' if fw else "-",
                     f'{fw["instructions_per_inference"]:,}' if fw else "-",
                     f'{fw.get("front_end_instructions", 0):,}' if fw else "-"]
            if fw and fw["matching"] != fw["clips"]:
                cells[-1] += f' ({fw["matching"]}/{fw["clips"]} clips equal)'
            print("| " + " | ".join(cells) + " |")
    print()
    for budget, (val, name, test) in sorted(best.items(), key=lambda kv: int(kv[0])):
        print(f"- <= {int(budget):,} parameters: chosen on validation: {name} "
              f"(val {val:.3f}), test {test}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/front_end"))
