#!/usr/bin/env bash
# The main job, end to end on the default data: the Edge Impulse baseline on kws12, then a small
# AudioClassifier on kw3 without and with cc dendrites, and one HTML report over the three runs.
# (The matched-arm sweep and the exported firmware join it as they land.)
set -euo pipefail
BUILD=${1:-build}
DKWS="$BUILD/dkws"
OUT=${DKWS_DEMO_OUT:-runs/demo}
DATA=${DKWS_DATA:-}
if [ -z "$DATA" ] && [ -d ../shared/data/speech_commands_v2_test ]; then DATA=../shared/data; fi
if [ -z "$DATA" ] || [ ! -d "$DATA/speech_commands_v2_test" ]; then
  echo "dkws demo: no Speech Commands data found. Set DKWS_DATA to the folder holding" >&2
  echo "speech_commands_v2_test/ and background_noise/ (see README, 'Data formats')." >&2
  exit 2
fi
start=$(date +%s)
echo "== dkws demo: data $DATA, output $OUT"
echo "-- 1/3 Edge Impulse Conv1D baseline on kws12 (100 epochs, best-validation epoch kept)"
"$DKWS" train --config configs/ei_conv1d_kws12.json --data "$DATA" --out "$OUT/ei_conv1d_kws12"
for mode in none cc; do
  echo "-- $([ $mode = none ] && echo 2 || echo 3)/3 AudioClassifier (623 parameters) on kw3, dendrites: $mode"
  "$DKWS" train --config configs/compare_dendrites.json --task kw3 --data "$DATA" \
    --set model.num_conv=2 --set model.width=0.5 --set model.growth=4 --epochs 100 \
    --dendrites "$mode" --out "$OUT/kw3_$mode"
done
echo
echo "== summary"
"$DKWS" report "$OUT/ei_conv1d_kws12" "$OUT/kw3_none" "$OUT/kw3_cc" --out "$OUT/report"
echo "wall time: $(( $(date +%s) - start )) s"
echo "made: $OUT/*/model.json (models), $OUT/*/training_graph.svg, $OUT/*/confusion.svg, $OUT/*/metrics.json"
echo "report: $OUT/report/index.html"
