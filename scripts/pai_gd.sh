#!/usr/bin/env bash
# Issue 18, part 3 (docs/results/pai_gd.md): PerforatedAI's open GD dendrites against dkws `gd`
# under `dendrites.rules pb`, and both no-dendrite arms, on the paper's best AudioClassifier
# (3 conv blocks [4, 8, 8], Linear 48->12) and one near 4,000 parameters, dendrites on the Dense
# layer only and on every layer, 5 seeds, kws12. Settings: configs/pai_gd.json on both sides.
# The reference runs from a PerforatedAI checkout outside the repository (tools/torch/pai_gd.py).
#   scripts/pai_gd.sh <PerforatedAI checkout> [build] [out]     (needs /usr/bin/python3 with torch)
#   ARCHS="paper 4k" PLACEMENTS="dense all" SIDES="dkws pai" ARMS="gd none" SEEDS="1 2 3 4 5"
#   JOBS=2 to narrow it. Finished runs (result.json) are skipped, so it can be rerun until done.
# Then tools/summarise_pai_gd.py OUT writes the table and OUT/runs.csv.
set -euo pipefail
source "$(dirname "$0")/run_queue.sh"
PAI=${1:-${PAI_SRC:-}}
BUILD=${2:-build}
OUT=${3:-runs/pai_gd}
if [ -z "$PAI" ] || [ ! -f "$PAI/perforatedai/tracker_perforatedai.py" ]; then
  echo "pai_gd.sh: no PerforatedAI checkout at '$PAI' (first argument or \$PAI_SRC)" >&2
  exit 2
fi
PAI=$(cd "$PAI" && pwd)
DATA=${DKWS_DATA:-../shared/data}
JOBS=${JOBS:-2}
SEEDS=${SEEDS:-1 2 3 4 5}
ARCHS=${ARCHS:-paper 4k}
PLACEMENTS=${PLACEMENTS:-dense all}
SIDES=${SIDES:-dkws pai}
ARMS=${ARMS:-gd none}
# name:num_conv:growth:width (the dkws config's model keys; pai_gd.py takes the same)
declare -A ARCH=([paper]="3:2:0.5" [4k]="3:1:0.75") # 1508 and 3990 parameters
FEATS="$OUT/features"
[ -f "$FEATS/classes.json" ] || "$BUILD/dkws" features -q --task kws12 --data "$DATA" --out "$FEATS"
cmds=()
# Order: per architecture and placement, dkws's runs (fast), then PerforatedAI's. Each command
# checks for its result again when it starts, so a run still going from an earlier call of this
# script is not started twice once it has finished.
for arch in $ARCHS; do
  IFS=: read -r nc growth width <<<"${ARCH[$arch]}"
  for placement in $PLACEMENTS; do
    for side in $SIDES; do
      for arm in $ARMS; do
        for seed in $SEEDS; do
          dir="$OUT/$arch/$placement/$side/$arm/seed$seed"
          [ -f "$dir/result.json" ] && continue
          if [ "$side" = pai ]; then
            cmds+=("[ -f $dir/result.json ] || { mkdir -p $dir && /usr/bin/python3 \
tools/torch/pai_gd.py --pai $PAI --features $FEATS --num-conv $nc --growth $growth \
--width $width --placement $placement --arm $arm --seed $seed --work $dir/work < /dev/null \
> $dir/result.tmp 2> $dir/stderr.txt && mv $dir/result.tmp $dir/result.json && rm -rf $dir/work; }")
          else
            cmds+=("[ -f $dir/result.json ] || { $BUILD/dkws train -q --task kws12 --data $DATA \
--config configs/pai_gd.json --set model.num_conv=$nc --set model.growth=$growth \
--set model.width=$width --set dendrites.layers=$placement --set dendrites.mode=$arm \
--seed $seed --out $dir/run > /dev/null && cp $dir/run/metrics.json $dir/result.json; }")
          fi
        done
      done
    done
  done
done
run_queue
/usr/bin/python3 tools/summarise_pai_gd.py "$OUT"
