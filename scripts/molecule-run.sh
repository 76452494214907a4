#!/usr/bin/env bash
# Run molecule scenarios, up to MOLECULE_JOBS at a time (default 2): most scenarios
# wait on downloads and package installs, so two share the 2 cores well. Each
# scenario's output goes to .cache/molecule-logs/<scenario>.log, each line stamped
# with the time, and the seconds of each step (create, converge, verify, ...) to
# <scenario>.steps; a failed one's log tail is printed. Exits non-zero if any
# scenario failed.
# Usage: molecule-run.sh scenario...
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

jobs=${MOLECULE_JOBS:-2}
logs=.cache/molecule-logs
mkdir -p "$logs"

# Prefixes each line with the time and writes "step seconds" for each molecule
# step (from its "➜ <step>: Executing" line to the next one, or the end) to $1.
stamp_steps() {
  local line now step="" since=0 color=$'(\e\\[[0-9;]*m)*'
  # The times of the banner lines (UTC); the function runs in its pipeline's subshell.
  export TZ=UTC
  local started="➜ $color([a-z_]+)$color: ${color}Executing$color\$"
  while IFS= read -r line || [ -n "$line" ]; do
    printf -v now '%(%s)T' -1
    if [[ $line =~ $started ]]; then
      [ -n "$step" ] && echo "$step $(( now - since ))" >>"$1"
      step=${BASH_REMATCH[2]} since=$now
    fi
    printf '%(%H:%M:%S)T %s\n' "$now" "$line"
  done
  [ -n "$step" ] && echo "$step $(( $(date +%s) - since ))" >>"$1"
}

run_one() {
  local scenario=$1 start rc steps
  start=$(date +%s)
  echo "=== molecule test -s $scenario: started $(date -u +%H:%M:%S)"
  : >"$logs/$scenario.steps"
  .venv/bin/molecule test -s "$scenario" 2>&1 | stamp_steps "$logs/$scenario.steps" >"$logs/$scenario.log"
  rc=${PIPESTATUS[0]}
  echo "$rc $(( $(date +%s) - start ))" >"$logs/$scenario.result"
  steps=$(awk '{ printf "%s%s %ss", (NR > 1 ? ", " : ""), $1, $2 }' "$logs/$scenario.steps")
  if [ "$rc" = 0 ]; then
    echo "=== molecule $scenario passed in $(( $(date +%s) - start ))s ($steps)"
  else
    echo "=== molecule $scenario FAILED (rc=$rc) after $(( $(date +%s) - start ))s ($steps); last lines of $logs/$scenario.log:"
    tail -n 150 "$logs/$scenario.log" | sed "s/^/[$scenario] /"
  fi
}

rm -f "$logs"/*.result
running=0
for scenario in "$@"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_one "$scenario" &
  running=$((running + 1))
done
wait

failed=0
for scenario in "$@"; do
  read -r rc _seconds <"$logs/$scenario.result" || rc=1
  [ "$rc" = 0 ] || failed=$((failed + 1))
done
echo "molecule: $(( $# - failed )) passed, $failed failed"
[ "$failed" = 0 ]
