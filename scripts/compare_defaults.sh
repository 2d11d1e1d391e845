#!/bin/bash
# dkws train's default (every configured epoch, best-validation checkpoint kept) against the old
# default (early stopping after dendrites.n_epochs_to_switch = 10 epochs without a better
# validation score), EI Conv1D with the default config on kws12 and kw3, seeds 1-3. Prints the
# table of docs/results/defaults.md.
#   scripts/compare_defaults.sh [OUT] (env: SEEDS="1 2 3" TASKS="kws12 kw3")
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-runs/compare_defaults}
dkws=${DKWS:-$here/build/dkws}
data=${DKWS_DATA:-$here/../shared/data}
mkdir -p "$out"
for task in ${TASKS:-kws12 kw3}; do
  for seed in ${SEEDS:-1 2 3}; do
    # One untimed load first, so both arms read cached features and time training alone.
    "$dkws" features -q --task "$task" --data "$data" --seed "$seed" --cache "$out/cache" \
      --out "$out/features-$task-$seed" > /dev/null
    for arm in full early; do
      run="$out/$task-$arm-$seed"
      rm -rf "$run"
      set_early=()
      [ "$arm" = early ] && set_early=(--set train.early_stopping=true)
      "$dkws" train -q --task "$task" --data "$data" --seed "$seed" --cache "$out/cache" \
        "${set_early[@]}" --out "$run" > /dev/null
    done
  done
done
python3 - "$out" ${TASKS:-kws12 kw3} <<'PY'
import json, statistics, sys, glob, os
out, tasks = sys.argv[1], sys.argv[2:]
def runs(task, arm):
    files = glob.glob(os.path.join(out, f"{task}-{arm}-*", "metrics.json"))
    return {int(f.split(os.sep)[-2].rsplit("-", 1)[1]): json.load(open(f)) for f in files}
def spread(xs, digits=1):
    return f"{statistics.mean(xs):.{digits}f} ({min(xs):.{digits}f}-{max(xs):.{digits}f})"
print("| task | default | seeds | test accuracy % (mean ± sd) | new - old, paired (pt) | epochs trained | best epoch | train s |")
print("|---|---|---|---|---|---|---|---|")
names = {"early": "old: early stopping, patience 10", "full": "new: every epoch, best kept"}
for task in tasks:
    old, new = runs(task, "early"), runs(task, "full")
    seeds = sorted(set(old) & set(new))
    diff = [100 * (new[s]["test_accuracy"] - old[s]["test_accuracy"]) for s in seeds]
    for arm, ms in (("early", old), ("full", new)):
        acc = [100 * ms[s]["test_accuracy"] for s in seeds]
        paired = f"{statistics.mean(diff):+.2f} ± {statistics.stdev(diff):.2f}" if arm == "full" else ""
        print(f"| {task} | {names[arm]} | {len(seeds)} | {statistics.mean(acc):.2f} ± {statistics.stdev(acc):.2f} "
              f"| {paired} | {spread([ms[s]['epochs'] for s in seeds], 0)} "
              f"| {spread([ms[s]['best_epoch'] for s in seeds], 0)} "
              f"| {spread([ms[s]['train_seconds'] for s in seeds])} |")
PY
