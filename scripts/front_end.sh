#!/usr/bin/env bash
# Front-end options on kws12 (docs/results/front_end.md, issue 16 item 6): MFCC against MFE and
# the number of filters and coefficients, each with the DS-CNN (the project's best family,
# configs/ds_cnn_kws12.json) at the widest channel count that fits 1,500 and 4,000 parameters;
# test accuracy of the best-validation epoch over seeds. Seed 1 of every cell is then exported to
# int8 C and run on the Cortex-M4F firmware in QEMU for its flash, RAM and instructions per
# inference (the front end's share separately).
#   scripts/front_end.sh [build] [out]      then: python3 scripts/front_end_table.py OUT
#   SEEDS="1 2 3" JOBS=2 VARIANTS="mfcc13 mfe40 ..." to narrow it. Finished runs are skipped.
set -euo pipefail
source "$(dirname "$0")/run_queue.sh"
BUILD=${1:-build}
OUT=${2:-runs/front_end}
DATA=${DKWS_DATA:-../shared/data}
JOBS=${JOBS:-$(nproc)}
SEEDS=${SEEDS:-1 2 3}
VARIANTS=${VARIANTS:-mfcc13 mfcc13_f40 mfcc10 mfcc20 mfe40 mfe32 mfe20 mfe40_s10}
# variant -> values per frame (F), then its front-end overrides.
features_per_frame() {
  case $1 in
    mfcc13 | mfcc13_f40) echo 13 ;; mfcc10) echo 10 ;; mfcc20 | mfe20) echo 20 ;;
    mfe40 | mfe40_s10) echo 40 ;; mfe32) echo 32 ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}
front_end_args() {
  local mfe="--set front_end.block=mfe --set front_end.params.frame_stride=0.02"
  case $1 in
    mfcc13) echo "" ;;                                                # 50 x 13, 32 filters
    mfcc13_f40) echo "--set front_end.params.num_filters=40" ;;       # 50 x 13, 40 filters
    mfcc10) echo "--set front_end.params.num_cepstral=10" ;;          # 50 x 10
    mfcc20) echo "--set front_end.params.num_cepstral=20" ;;          # 50 x 20
    mfe40) echo "$mfe" ;;                                             # 50 x 40
    mfe32) echo "$mfe --set front_end.params.num_filters=32" ;;       # 50 x 32
    mfe20) echo "$mfe --set front_end.params.num_filters=20" ;;       # 50 x 20
    mfe40_s10) echo "--set front_end.block=mfe" ;;                    # 99 x 40, Edge Impulse's default
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}
# The most channels C whose DS-CNN (one block, 12 classes) fits the budget: with F values per
# frame it has C^2 + (3F + 18) C + 12 parameters (first conv 3FC + C, block C^2 + 5C, dense 12C + 12).
channels() {  # F budget
  awk -v f="$1" -v p="$2" 'BEGIN { b = 3 * f + 18; print int((-b + sqrt(b * b - 4 * (12 - p))) / 2) }'
}
cmds=()
for v in $VARIANTS; do
  for budget in 1500 4000; do
    c=$(channels "$(features_per_frame "$v")" "$budget")
    width=$(awk -v c="$c" 'BEGIN { printf "%.4f", (c + 0.5) / 16 }')
    for s in $SEEDS; do
      dir="$OUT/$v/$budget/seed$s"
      [ -f "$dir/metrics.json" ] && continue
      mkdir -p "$(dirname "$dir")"
      run="/usr/bin/time -f %e -o $dir.wall $BUILD/dkws train -q --task kws12 --data $DATA \
-c configs/ds_cnn_kws12.json $(front_end_args "$v") --set model.width=$width --seed $s \
--set train.eval_train_accuracy=false --out $dir > /dev/null"
      cmds+=("$run")
    done
  done
done
run_queue
# Seed 1 of each cell on the firmware: int8 export with 24 test clips, QEMU, firmware.json.
for v in $VARIANTS; do
  for budget in 1500 4000; do
    dir="$OUT/$v/$budget/seed1"
    [ -f "$dir/metrics.json" ] && [ ! -f "$dir/export/firmware.json" ] || continue
    "$BUILD/dkws" export "$dir" --format c --firmware-clips 24 --out "$dir/export" --quiet \
      --data "$DATA" > /dev/null
    scripts/run_firmware.sh "$dir/export" > /dev/null ||
      echo "front_end.sh: $dir: firmware differs from the host (see $dir/export/firmware.json)" >&2
  done
done
