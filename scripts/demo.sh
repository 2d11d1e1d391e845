#!/usr/bin/env bash
# The main job, end to end on the default data: train the Edge Impulse baseline on kws12 and
# print where everything went. Grows with the project (sweep, report, export).
set -euo pipefail
BUILD=${1:-build}
DKWS="$BUILD/dkws"
OUT=${DKWS_DEMO_OUT:-runs/demo}
DATA=${DKWS_DATA:-}
if [ -z "$DATA" ] && [ -d ../shared/data/speech_commands_v2_test ]; then DATA=../shared/data; fi
if [ -z "$DATA" ] || [ ! -d "$DATA/speech_commands_v2_test" ]; then
  echo "dkws demo: no Speech Commands data found (set DKWS_DATA to the folder holding"
  echo "speech_commands_v2_test/ and background_noise/)." >&2
  exit 2
fi
EPOCHS=${DKWS_DEMO_EPOCHS:-30}
start=$(date +%s)
echo "== dkws demo: data $DATA, output $OUT"
"$DKWS" train --task kws12 --data "$DATA" --epochs "$EPOCHS" --out "$OUT/ei_conv1d_kws12" \
  --set dendrites.n_epochs_to_switch=1000
echo
echo "== summary"
"$DKWS" --version
cat "$OUT/ei_conv1d_kws12/metrics.json" | head -20
echo "wall time: $(( $(date +%s) - start )) s"
echo "report: $OUT/ei_conv1d_kws12/metrics.json (confusion.svg, history.csv beside it)"
