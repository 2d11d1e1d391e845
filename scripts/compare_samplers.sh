#!/bin/bash
# Random against TPE sampling on kws12: SEEDS sweeps of CONFIGS configs each (arm none, 1 training
# seed, EPOCHS epochs per trial, the paper's space), then per sweep the area under the
# validation-selected accuracy-vs-budget curve and the best configuration at 1,500 and 4,000
# parameters (scripts/sampler_metrics.py). Results: docs/results/tpe.md.
#   scripts/compare_samplers.sh [OUT] (env: CONFIGS=40 EPOCHS=10 SEEDS="1 2 3" JOBS=2)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-runs/compare_samplers}
dkws=${DKWS:-$here/build/dkws}
data=${DKWS_DATA:-$here/../shared/data}
mkdir -p "$out"
# The paper's space with a fixed epoch cap (comments stripped so python can edit it).
python3 - "$here/configs/sweep_paper.json" "$out/space.json" "${EPOCHS:-10}" <<'PY'
import json, re, sys
text = re.sub(r"//[^\n]*", "", open(sys.argv[1]).read())
space = json.loads(text)
space["base"]["train"]["epochs"] = int(sys.argv[3])
json.dump(space, open(sys.argv[2], "w"), indent=1)
PY
for seed in ${SEEDS:-1 2 3}; do
  for sampler in random tpe; do
    "$dkws" sweep --space "$out/space.json" --out "$out/$sampler-$seed" --task kws12 \
      --data "$data" --arms none --seeds 1 --configs "${CONFIGS:-40}" --sampler "$sampler" \
      --seed "$seed" -j "${JOBS:-2}" -q
  done
done
python3 "$here/scripts/sampler_metrics.py" "$out"
