#!/usr/bin/env bash
# The training-recipe table on kws12 (docs/results/recipe.md): each technique alone and combined,
# on the paper's AudioClassifier family near 1,500 and 4,000 parameters and the Edge Impulse
# Conv1D (3,228), over seeds; test accuracy at the best-validation epoch of a fixed number of
# epochs. The distillation teacher is an ensemble of three wider AudioClassifiers trained on the
# training split (`dkws teacher`), its logits cached once. Cheap models run first, so a cut-short
# run leaves complete rows.
#   scripts/recipe.sh [build] [out]      then: python3 scripts/recipe_table.py OUT
# Each run's best checkpoint is then evaluated on the training split in eval mode.
#   SEEDS="1 2 3" EPOCHS=60 JOBS=2 MODELS="ei3228 ac1500 ac4000" ROWS="baseline onecycle ..."
# Finished runs (OUT/<model>/<row>/seed<k>/metrics.json) are skipped, so the command resumes.
set -euo pipefail
source "$(dirname "$0")/run_queue.sh"
BUILD=${1:-build}
OUT=${2:-runs/recipe}
DATA=${DKWS_DATA:-../shared/data}
JOBS=${JOBS:-$(nproc)}
SEEDS=${SEEDS:-1 2 3}
EPOCHS=${EPOCHS:-60}
MODELS=${MODELS:-ei3228 ac1500 ac4000}
# Rows run per model (ROWS=... runs the same rows on every model): every row on the cheap Edge
# Impulse model; on the AudioClassifiers, which cost 3-10 times more, the ones that matter.
EI_ROWS="baseline cosine onecycle smooth mixup distill combined combined_mixup distill_t2 \
combined_onecycle onecycle_long distill_long combined_long synth_mix synth_pretrain"
AC_ROWS="baseline onecycle smooth distill combined onecycle_long distill_long combined_long \
synth_mix synth_pretrain"
# The DS-CNN (the best family, docs/results/families.md) costs a tenth of the AudioClassifier.
DS_ROWS="baseline onecycle onecycle_long synth_mix synth_pretrain"
rows_for() {
  if [ -n "${ROWS:-}" ]; then echo "$ROWS"; elif [ "$1" = ei3228 ]; then echo "$EI_ROWS"
  elif [ "${1#ds}" != "$1" ]; then echo "$DS_ROWS"; else echo "$AC_ROWS"; fi
}
TEACHER_SEEDS=${TEACHER_SEEDS:-1,2,3}
# Every run: a fixed number of epochs keeping the best-validation checkpoint, no early stopping;
# the eval-mode train accuracy is a diagnostic and is switched off to save time here.
COMMON="--task kws12 --data $DATA --epochs $EPOCHS --set train.early_stopping=false \
--set dendrites.n_epochs_to_switch=100000 --set train.eval_train_accuracy=false"
# The AudioClassifier with dropout after each conv block and Glorot init (dkws's first variant,
# 10-17 points better than the paper's placement on 3-block models: docs/results/ac_parity.md).
AC="--set model.family=audio_classifier --set model.dropout_at=conv --set model.init=glorot \
--set model.num_conv=3 --set model.num_linear=1 --set model.dropout=0.1"
model_args() {
  case $1 in
    ac1500) echo "$AC --set model.width=0.875 --set model.growth=4" ;;  # 7/7/7 channels: 1,482
    ac4000) echo "$AC --set model.width=1.5 --set model.growth=4" ;;    # 12/12/12: 3,612
    ei3228) echo "--config configs/ei_conv1d_kws12.json" ;;
    ds1500) echo "--config configs/ds_cnn_kws12.json --set model.width=1.22" ;;  # 19 channels: 1,456
    ds4000) echo "--config configs/ds_cnn_kws12.json --set model.width=2.5" ;;   # 40 channels: 3,892
    *) echo "unknown model $1" >&2; exit 2 ;;
  esac
}
TEACHER="$OUT/teacher/teacher_logits.json"
# Synthetic speech for every kws12 class, made once (about a minute).
SYNTH="$OUT/synth-kws12"
[ -f "$SYNTH/synth_manifest.json" ] || "$BUILD/dkws" data synth -q \
  --keywords yes,no,up,down,left,right,on,off,stop,go --per-class 300 --seed 1 --out "$SYNTH"
row_args() {
  local distill="--set train.teacher=$TEACHER --set train.distill_weight=0.7 \
--set train.distill_temperature=4"
  case $1 in
    baseline) echo "" ;;
    cosine) echo "--set train.scheduler=cosine" ;;
    onecycle) echo "--set train.scheduler=onecycle" ;;
    smooth) echo "--set train.label_smoothing=0.1" ;;
    mixup) echo "--set train.mixup=0.2" ;;
    distill) echo "$distill" ;;
    combined) echo "--set train.scheduler=cosine --set train.label_smoothing=0.1 $distill" ;;
    combined_mixup) echo "--set train.scheduler=cosine --set train.label_smoothing=0.1 \
--set train.mixup=0.2 $distill" ;;
    # Variants: a softer distillation, the combination under one-cycle, and three times the
    # epochs under one-cycle alone, with distillation, and with distillation and smoothing.
    distill_t2) echo "--set train.teacher=$TEACHER --set train.distill_weight=0.5 \
--set train.distill_temperature=2" ;;
    combined_onecycle) echo "--set train.scheduler=onecycle --set train.label_smoothing=0.1 \
$distill" ;;
    onecycle_long) echo "--set train.scheduler=onecycle --set train.epochs=$((3 * EPOCHS))" ;;
    distill_long) echo "--set train.scheduler=onecycle --set train.epochs=$((3 * EPOCHS)) $distill" ;;
    combined_long) echo "--set train.scheduler=onecycle --set train.label_smoothing=0.1 \
--set train.epochs=$((3 * EPOCHS)) $distill" ;;
    # Synthetic speech (dkws data synth, every kws12 class) with onecycle_long: a share of 0.3 of
    # each epoch's rows, or 30 epochs on synthetic clips alone before the real ones.
    synth_mix) echo "--set train.scheduler=onecycle --set train.epochs=$((3 * EPOCHS)) \
--set augment.synthetic=$SYNTH --set augment.synthetic_ratio=0.3" ;;
    synth_pretrain) echo "--set train.scheduler=onecycle --set train.epochs=$((3 * EPOCHS)) \
--set augment.synthetic=$SYNTH --set augment.synthetic_pretrain_epochs=30" ;;
    *) echo "unknown row $1" >&2; exit 2 ;;
  esac
}

# The teacher: three AudioClassifiers with 16/16/16 channels (5,964 parameters each), trained once
# on the training split, their mean logits cached.
mkdir -p "$OUT/teacher"
start=$(date +%s)
"$BUILD/dkws" teacher -q $COMMON $AC --set model.width=2 --set model.growth=4 \
  --seeds "$TEACHER_SEEDS" --out "$OUT/teacher" | tee -a "$OUT/teacher/summary.txt"
echo "teacher: $(( $(date +%s) - start )) s" | tee -a "$OUT/teacher/summary.txt"

cmds=()
for m in $MODELS; do
  for r in $(rows_for "$m"); do
    for s in $SEEDS; do
      dir="$OUT/$m/$r/seed$s"
      [ -f "$dir/metrics.json" ] && continue
      cmds+=("/usr/bin/time -f %e -o $dir.wall $BUILD/dkws train -q $COMMON $(model_args "$m") \
$(row_args "$r") --seed $s --out $dir > /dev/null")
    done
  done
done
for c in "${cmds[@]}"; do mkdir -p "$(dirname "$(echo "$c" | sed 's/.*--out \([^ ]*\).*/\1/')")"; done
run_queue
# The honest overfitting diagnostic: each chosen checkpoint's train accuracy in eval mode (no
# dropout or noise), to set beside its validation accuracy.
for m in $MODELS; do
  for r in $(rows_for "$m"); do
    for s in $SEEDS; do
      dir="$OUT/$m/$r/seed$s"
      [ -f "$dir/metrics.json" ] && [ ! -f "$dir/train_eval.json" ] &&
        "$BUILD/dkws" eval "$dir/model.json" --data "$DATA" --split train --json -q \
          > "$dir/train_eval.tmp" && mv "$dir/train_eval.tmp" "$dir/train_eval.json"
    done
  done
done
