#!/usr/bin/env bash
# Issue 17's experiment: the classic rule set against pb (Perforated AI's own rules), arms none,
# restart, gd and cc, on the paper's best architecture (3 conv blocks [4, 8, 8], dense-only
# dendrites, tanh and sigmoid) and one AudioClassifier near 4,000 parameters, kws12 and kw3,
# 5 seeds. Settings: configs/pb_rules.json. Runs go to OUT/<arch>/<rules>/<arm>/seed<N>; finished
# runs (metrics.json present) are skipped and a killed run resumes from its model.json, so the
# script can be rerun until done. Then tools/summarise_pb_rules.py writes the table.
#   scripts/pb_rules.sh [build] [out]        JOBS (default 2), SEEDS (default "1 2 3 4 5")
set -euo pipefail
source "$(dirname "$0")/run_queue.sh"
BUILD=${1:-build}
OUT=${2:-runs/pb_rules}
DATA=${DKWS_DATA:-../shared/data}
JOBS=${JOBS:-2}
SEEDS=${SEEDS:-1 2 3 4 5}
CACHE=${CACHE:-.cache/dkws}
# name:task:num_conv:growth:width:activation:warm-up batches. The warm-up is the paper's 40 on
# kws12 (90 batches per epoch) and the same share of an epoch on kw3 (25 batches).
ARCHS=(
  "kws12_paper_tanh:kws12:3:2:0.5:tanh:40"       # 1508 parameters
  "kws12_paper_sigmoid:kws12:3:2:0.5:sigmoid:40"
  "kws12_4k:kws12:3:1:0.75:sigmoid:40"           # 3990
  "kw3_paper_tanh:kw3:3:2:0.5:tanh:11"           # 1067
  "kw3_paper_sigmoid:kw3:3:2:0.5:sigmoid:11"
  "kw3_4k:kw3:3:0:0.8:sigmoid:11"                # 3898
)
# The features are computed once per task before the runs share the cache.
for task in kws12 kw3; do
  "$BUILD/dkws" train -q --task "$task" --data "$DATA" --cache "$CACHE" --epochs 1 \
    --out "$OUT/.warm/$task" > /dev/null
done
cmds=()
for arch in "${ARCHS[@]}"; do
  IFS=: read -r name task nc growth width act warm <<<"$arch"
  for rules in classic pb; do
    for arm in none restart gd cc; do
      mode=$arm restart=false
      [ "$arm" = restart ] && mode=none restart=true
      for seed in $SEEDS; do
        dir="$OUT/$name/$rules/$arm/seed$seed"
        [ -f "$dir/metrics.json" ] && continue
        cmds+=("nice $BUILD/dkws train -q --config configs/pb_rules.json --task $task --data $DATA \
--cache $CACHE --set model.num_conv=$nc --set model.growth=$growth --set model.width=$width \
--set dendrites.rules=$rules --set dendrites.activation=$act \
--set dendrites.initial_correlation_batches=$warm --set dendrites.mode=$mode \
--set dendrites.restart_only=$restart --seed $seed --out $dir")
      done
    done
  done
done
run_queue --quiet
python3 tools/summarise_pb_rules.py "$OUT"
