#!/usr/bin/env bash
# The AudioClassifier training-level parity check (docs/results/ac_parity.md): six configurations
# spanning 1-3 conv blocks, widths 1/4-2 and 1-2 Linear layers, 5 seeds each, trained by dkws (the
# paper's model, and dkws's earlier variant) and by PyTorch (tools/torch/train_audio_classifier.py)
# from the same exported features, under two protocols: early stopping (patience 10, the `none`
# arm) and a fixed number of epochs keeping the best-validation checkpoint.
#   scripts/ac_parity.sh [build] [out]        (needs /usr/bin/python3 with torch)
#   SIDES="dkws dkws_conv torch" PROTOCOLS="early fixed" SEEDS="1 2 3 4 5" ONLY=<config name>
#   JOBS=2 to narrow it.
set -euo pipefail
source "$(dirname "$0")/run_queue.sh"
BUILD=${1:-build}
OUT=${2:-runs/ac_parity}
DATA=${DKWS_DATA:-../shared/data}
JOBS=${JOBS:-$(nproc)}
SEEDS=${SEEDS:-1 2 3 4 5}
SIDES=${SIDES:-dkws dkws_conv torch}
PROTOCOLS=${PROTOCOLS:-early fixed}
FIXED_EPOCHS=${FIXED_EPOCHS:-60}
# name:num_conv:num_linear:width:growth
CONFIGS=(
  "c1_w025:1:1:0.25:0"
  "c2_w05_l2:2:2:0.5:4"
  "c3_w05_paper:3:1:0.5:2"
  "c3_w025_l2:3:2:0.25:0"
  "c2_w1:2:1:1.0:1"
  "c3_w2:3:1:2.0:4"
)
FEATS="$OUT/features"
[ -f "$FEATS/classes.json" ] || "$BUILD/dkws" features -q --task kws12 --data "$DATA" --out "$FEATS"
cmds=()
for c in "${CONFIGS[@]}"; do
  IFS=: read -r name nc nl w g <<<"$c"
  [ -n "${ONLY:-}" ] && [ "$name" != "$ONLY" ] && continue
  for proto in $PROTOCOLS; do
    if [ "$proto" = early ]; then epochs=100 patience=10; else epochs=$FIXED_EPOCHS patience=0; fi
    for side in $SIDES; do
      for seed in $SEEDS; do
        dir="$OUT/$name/$proto/$side/seed$seed"
        [ -f "$dir/result.json" ] && continue
        if [ "$side" = torch ]; then
          cmds+=("mkdir -p $dir && /usr/bin/python3 tools/torch/train_audio_classifier.py \
--features $FEATS --num-conv $nc --num-linear $nl --width $w --growth $g --epochs $epochs \
--patience $patience --seed $seed > $dir/result.tmp && mv $dir/result.tmp $dir/result.json")
        else
          variant=""
          [ "$side" = dkws_conv ] && variant="--set model.dropout_at=conv --set model.init=glorot"
          # patience 0 = fixed epochs: a switch patience beyond the epoch count never fires.
          sw=$patience; [ "$patience" = 0 ] && sw=100000
          cmds+=("$BUILD/dkws train -q --task kws12 --data $DATA --config configs/ac_parity.json \
--set model.num_conv=$nc --set model.num_linear=$nl --set model.width=$w --set model.growth=$g \
--set train.epochs=$epochs --set dendrites.n_epochs_to_switch=$sw $variant --seed $seed \
--out $dir/run > /dev/null && cp $dir/run/metrics.json $dir/result.json")
        fi
      done
    done
  done
done
run_queue
/usr/bin/python3 tools/summarise_parity.py "$OUT"
