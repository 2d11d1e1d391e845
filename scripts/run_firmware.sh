#!/usr/bin/env bash
# The firmware check for an exported model: builds firmware/ for QEMU's mps2-an386 (Cortex-M4F)
# around EXPORT_DIR (from `dkws export RUN --format c --firmware-clips N --out EXPORT_DIR`), runs it
# under qemu-system-arm with semihosting, and compares every clip's class and scores with the
# host's int8 results in EXPORT_DIR/clips_expected.txt. Prints flash, RAM and instructions per
# inference; writes EXPORT_DIR/firmware.json. Exit status: 0 when every clip matches.
set -euo pipefail
dir=${1:?usage: scripts/run_firmware.sh EXPORT_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(cd "$dir" && pwd)
for tool in arm-none-eabi-gcc qemu-system-arm; do
  command -v "$tool" >/dev/null || { echo "run_firmware: $tool not found (make deps installs it)" >&2; exit 2; }
done
[ -f "$dir/clips.h" ] || { echo "run_firmware: $dir/clips.h missing (export with --firmware-clips N)" >&2; exit 2; }
make -s -C "$here/firmware" MODEL="$dir" CLIPS="$dir/clips.h" OUT="$dir/fw"
timeout 600 qemu-system-arm -M mps2-an386 -nographic -semihosting -icount shift=0 \
  -kernel "$dir/fw/kws.elf" > "$dir/fw/qemu.txt" 2>&1
grep '^clip ' "$dir/fw/qemu.txt" > "$dir/fw/clips_device.txt" || true
clips=$(wc -l < "$dir/clips_expected.txt")
same=$(grep -cxFf "$dir/clips_expected.txt" "$dir/fw/clips_device.txt" || true)
sec() { awk -v s="$1" '$1 == s { print $2 }' "$dir/fw/size.txt"; }
text=$(sec .text); data=$(sec .data); bss=$(sec .bss)
stack=$(awk '$1 == "stack" { print $2 }' "$dir/fw/qemu.txt")
cal=$(awk '$1 == "calibration" { print $2 }' "$dir/fw/qemu.txt")
# The calibration loop in main.c runs 200,000 instructions: instructions per timer tick.
ipt=$(awk -v c="$cal" 'BEGIN { printf "%.4f", 200000 / c }')
insns=$(awk -v k="$ipt" '$1 == "ticks" { s += $3; n++ } END { printf "%.0f", k * s / n }' "$dir/fw/qemu.txt")
fe_insns=$(awk -v k="$ipt" '$1 == "frontend" { printf "%.0f", k * $2 }' "$dir/fw/qemu.txt")
flash=$((text + data)); ram=$((data + bss + stack))
printf '{"clips": %d, "matching": %d, "flash_bytes": %d, "ram_bytes": %d, "stack_bytes": %d, "instructions_per_inference": %d, "front_end_instructions": %d}\n' \
  "$clips" "$same" "$flash" "$ram" "$stack" "$insns" "${fe_insns:-0}" > "$dir/firmware.json"
echo "firmware: $same/$clips clips equal to the host's int8 results; flash $flash B (.text $text + .data $data, clips excluded), RAM $ram B (.data + .bss $bss incl. arena + stack $stack), $insns instructions per inference, of which the front end ${fe_insns:-?}"
[ "$same" -eq "$clips" ]
