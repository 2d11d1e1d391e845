#!/usr/bin/env bash
# Chaos test for a running sweep: SIGKILLs a random worker of the sweep writing to OUT every few
# minutes, logs which trial it held, and when the sweep has finished checks from its database that
# every trial was recorded exactly once and that each killed trial was retried.
#
#   scripts/kill_workers.sh OUT [MIN_SECONDS MAX_SECONDS]   (default: every 180-300 s)
#   scripts/kill_workers.sh --check OUT                      (only the check, after the sweep)
#
# Start it after `dkws sweep ... --out OUT` (SQLite storage, OUT/sweep.db); it stops killing when
# the sweep's coordinator has exited. The log (OUT/kills.tsv: time, pid, trial the pid held)
# and the check's summary (OUT/kills-check.txt) go next to the sweep's own outputs.
set -euo pipefail
check_only=0
if [[ ${1:-} == --check ]]; then
  check_only=1
  shift
fi
out=${1:?usage: kill_workers.sh [--check] OUT [MIN_SECONDS MAX_SECONDS]}
lo=${2:-180}
hi=${3:-300}
db="$out/sweep.db"
log="$out/kills.tsv"
command -v sqlite3 >/dev/null || { echo "kill_workers.sh: needs the sqlite3 command" >&2; exit 2; }
[[ -f $log ]] || printf 'time\tpid\ttrial_id\n' >"$log"

# Worker processes of this sweep: `dkws sweep worker ... --out OUT ...`.
workers() {
  pgrep -f -- "sweep worker .*--out $out( |$)" || true
}

# The coordinator: `dkws sweep ... --out OUT` that is not a worker.
coordinator_running() {
  pgrep -f -- "dkws(-[a-z]+)? sweep --.*--out $out( |$)" >/dev/null
}

while ((!check_only)); do
  # Sleep in short steps so that the end of the sweep is seen within seconds.
  wait_until=$((SECONDS + lo + RANDOM % (hi - lo + 1)))
  while ((SECONDS < wait_until)) && coordinator_running; do sleep 5; done
  coordinator_running || break
  mapfile -t pids < <(workers)
  ((${#pids[@]} > 0)) || continue
  victim=${pids[RANDOM % ${#pids[@]}]}
  trial=$(sqlite3 "$db" "select group_concat(trial_id) from trials where status='running' and worker like '%:$victim'" || true)
  kill -KILL "$victim" 2>/dev/null || continue
  printf '%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$victim" "${trial:-none}" | tee -a "$log"
done

# The sweep's coordinator may still be writing its last outputs.
while coordinator_running; do sleep 5; done

{
  echo "kills: $(($(wc -l <"$log") - 1))"
  sqlite3 "$db" "select 'trials: ' || count(*) || ', done: ' || sum(status='done') || ', failed: ' || sum(status='failed') || ', other: ' || sum(status not in ('done','failed')) from trials"
  sqlite3 "$db" "select 'distinct (config, arm, seed): ' || count(*) from (select distinct config_id, arm, seed from trials)"
  sqlite3 "$db" "select 'trials with attempts > 1: ' || count(*) || ' (' || ifnull(group_concat(trial_id || 'x' || attempts), '') || ')' from trials where attempts > 1"
  killed=$(awk -F'\t' 'NR > 1 && $3 != "none" {print $3}' "$log" | tr ',' '\n' | sort -un | paste -sd, -)
  if [[ -n $killed ]]; then
    sqlite3 "$db" "select 'killed trials: ' || count(*) || ', all done: ' || (sum(status='done') = count(*)) || ', all retried: ' || (min(attempts) >= 2) from trials where trial_id in ($killed)"
  fi
  if [[ -f $out/trials.json ]]; then
    /usr/bin/env python3 - "$out/trials.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))["trials"]
ids = [r["trial_id"] for r in t]
keys = [(r["config_id"], r["arm"], r["seed"]) for r in t]
print(f"trials.json: {len(t)} rows, {len(set(ids))} distinct trial ids, {len(set(keys))} distinct (config, arm, seed)")
EOF
  fi
} | tee "$out/kills-check.txt"
