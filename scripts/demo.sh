#!/usr/bin/env bash
# The main job, end to end (make demo): find data (real Speech Commands, else a synthesised keyword
# set), run a small matched sweep of `none` against `cc`, write the HTML report, export the best
# model under the paper's 1,500-parameter budget to C (int8) and ONNX, run the C build in QEMU on a
# Cortex-M4 against the host's results, and print a summary with the path of everything it made.
#
# Knobs (environment): DKWS_DATA (data folder), DKWS_DEMO_OUT (default runs/demo),
# DKWS_DEMO_SPACE (default configs/sweep_demo.json), DKWS_DEMO_CONFIGS (20), DKWS_DEMO_SEEDS (2),
# DKWS_DEMO_SYNTH_PER_CLASS (300), DKWS_DEMO_JOBS (all cores).
set -euo pipefail
BUILD=${1:-build}
DKWS="$BUILD/dkws"
OUT=${DKWS_DEMO_OUT:-runs/demo}
SPACE=${DKWS_DEMO_SPACE:-configs/sweep_demo.json}
CONFIGS=${DKWS_DEMO_CONFIGS:-20}
SEEDS=${DKWS_DEMO_SEEDS:-2}
JOBS=${DKWS_DEMO_JOBS:-$(nproc)}
BUDGET=1500
start=$(date +%s)
mkdir -p "$OUT"

# 1. Data: $DKWS_DATA, else ../shared/data, else synthesised speech.
DATA=${DKWS_DATA-}
if [ -z "$DATA" ] && [ -d ../shared/data/speech_commands_v2_test ]; then DATA=../shared/data; fi
if [ -n "$DATA" ] && [ -d "$DATA/speech_commands_v2_test" ]; then
  TASK=kws12
  echo "== dkws demo: real Speech Commands data in $DATA (task kws12, 12 classes); output in $OUT"
else
  TASK=folder
  DATA="$OUT/synth-data"
  echo "== dkws demo: NOTICE: no Speech Commands data found (set DKWS_DATA to use real data)."
  echo "   Synthesising a keyword set instead: 'yes' against unknown words and noise, spoken by"
  echo "   espeak-ng and flite voices. Results on SYNTHETIC speech say little about real speech."
  "$DKWS" data synth --keywords yes --per-class "${DKWS_DEMO_SYNTH_PER_CLASS:-300}" --out "$DATA"
fi

# 2. The matched sweep: every sampled configuration in both arms with every seed.
echo "-- sweep: $CONFIGS configurations x arms none,cc x $SEEDS seeds ($SPACE)"
"$DKWS" sweep --space "$SPACE" --out "$OUT/sweep" --task "$TASK" --data "$DATA" \
  --arms none,cc --configs "$CONFIGS" --seeds "$SEEDS" -j "$JOBS"

# 3. The report: frontier, per-budget table with intervals, paired test, every training graph.
echo "-- report"
"$DKWS" report "$OUT/sweep" --out "$OUT/report"

# 4. The model to ship: best by validation under the budget, exported to C (int8) and ONNX.
if RUN=$("$DKWS" sweep best "$OUT/sweep" --max-params "$BUDGET" --path 2>/dev/null); then
  echo "-- export: $RUN (best by validation under $BUDGET parameters)"
else
  RUN=$("$DKWS" sweep best "$OUT/sweep" --max-params 1e12 --path)
  echo "-- export: no model under $BUDGET parameters; exporting the best of all, $RUN"
fi
"$DKWS" export "$RUN" --format c --out "$OUT/export-c" --firmware-clips 24 --data "$DATA"
"$DKWS" export "$RUN" --format onnx --out "$OUT/export-onnx"

# 5. The C library on a Cortex-M4 (QEMU mps2-an386) against the host's int8 results.
FIRMWARE="firmware: skipped (arm-none-eabi-gcc or qemu-system-arm missing; make deps installs them)"
if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null; then
  echo "-- firmware: QEMU mps2-an386 (Cortex-M4F)"
  FIRMWARE=$(scripts/run_firmware.sh "$OUT/export-c")
  echo "$FIRMWARE"
fi

echo
echo "== summary ($TASK$([ "$TASK" = folder ] && echo ', SYNTHETIC data'))"
for budget in 1500 4000; do
  for arm in none cc; do
    line=$("$DKWS" sweep best "$OUT/sweep" --max-params "$budget" --arm "$arm" 2>/dev/null |
      head -1) || line="best under $budget parameters: arm $arm: no finished model fits"
    echo "  $line"
  done
done
echo "  $FIRMWARE"
echo "wall time: $(( $(date +%s) - start )) s"
echo "made:"
echo "  $OUT/sweep/            sweep.db, trials.json, trials/<id>/ (model, metrics, training graph)"
echo "  $OUT/export-c/         C99 library (kws.h, kws_model.c, ...), clips.h, firmware.json, fw/kws.elf"
echo "  $OUT/export-onnx/      model.onnx"
echo "report: $OUT/report/report.html"
