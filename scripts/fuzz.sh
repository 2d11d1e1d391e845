#!/usr/bin/env bash
# Runs each libFuzzer target of a `make fuzz` build for the given seconds, one after another:
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]
# Each starts from its committed corpus and regression inputs (fuzz/corpus/<t>,
# fuzz/regressions/<t>); new corpus entries go to BUILD_DIR/fuzz-corpus/<t> and crashing inputs
# to BUILD_DIR/fuzz-crashes/<t>-*, to be committed to fuzz/regressions/<t> with the fix.
set -euo pipefail
build=$1
seconds=$2
shift 2
targets=("$@")
((${#targets[@]})) || targets=(audio_reader model_file run_config space split_tsv)
src=$(cd "$(dirname "$0")/.." && pwd)
failed=()
for t in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$t"
  mkdir -p "$corpus" "$build/fuzz-crashes"
  echo "== fuzz_$t for ${seconds}s"
  seeds=("$src/fuzz/corpus/$t")
  [ -d "$src/fuzz/regressions/$t" ] && seeds+=("$src/fuzz/regressions/$t")
  "$build/fuzz/fuzz_$t" "$corpus" "${seeds[@]}" \
    -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
    -artifact_prefix="$build/fuzz-crashes/$t-" -print_final_stats=1 || failed+=("$t")
done
if ((${#failed[@]})); then
  echo "fuzzing found crashes in: ${failed[*]} (inputs in $build/fuzz-crashes)" >&2
  exit 1
fi
