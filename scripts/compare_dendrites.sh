#!/usr/bin/env bash
# Issue 3's real-data comparison: three small AudioClassifier architectures per task, each trained
# with dendrite modes none, gd and cc, over 3 seeds. Writes runs under $OUT and a table with
# tools/summarise_runs.py. Takes a while: about (tasks x 3 archs x 3 modes x 3 seeds) runs.
#   scripts/compare_dendrites.sh [build] [out]
set -euo pipefail
source "$(dirname "$0")/run_queue.sh"
BUILD=${1:-build}
OUT=${2:-runs/compare_dendrites}
DATA=${DKWS_DATA:-../shared/data}
JOBS=${JOBS:-$(nproc)}
# name:task:num_conv:num_linear:width:growth (base parameter counts in the comment)
ARCHS=(
  "kw3_a:kw3:2:1:0.5:4"        # 623
  "kw3_b:kw3:3:2:0.25:0"       # 1019
  "kw3_c:kw3:2:1:1.0:4"        # 1531
  "kws12_a:kws12:3:1:0.5:4"    # 636
  "kws12_b:kws12:3:1:0.25:0"   # 980
  "kws12_c:kws12:3:1:0.5:2"    # 1508
)
cmds=()
for arch in "${ARCHS[@]}"; do
  IFS=: read -r name task nc nl w g <<<"$arch"
  for mode in none gd cc; do
    for seed in 1 2 3; do
      dir="$OUT/$name/$mode/seed$seed"
      [ -f "$dir/metrics.json" ] && continue
      cmds+=("$BUILD/dkws train -q --config configs/compare_dendrites.json --task $task --data $DATA \
--set model.num_conv=$nc --set model.num_linear=$nl --set model.width=$w --set model.growth=$g \
--dendrites $mode --seed $seed --out $dir")
    done
  done
done
run_queue --quiet
python3 tools/summarise_runs.py "$OUT"
