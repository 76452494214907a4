#!/usr/bin/env bash
# Run molecule scenarios, up to MOLECULE_JOBS at a time (default 2): most scenarios
# wait on downloads and package installs, so two share the 2 cores well. Each
# scenario's output goes to .cache/molecule-logs/<scenario>.log; a failed one's log
# tail is printed. Exits non-zero if any scenario failed.
# Usage: molecule-run.sh scenario...
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

jobs=${MOLECULE_JOBS:-2}
logs=.cache/molecule-logs
mkdir -p "$logs"

run_one() {
  local scenario=$1 start rc
  start=$(date +%s)
  echo "=== molecule test -s $scenario: started $(date -u +%H:%M:%S)"
  .venv/bin/molecule test -s "$scenario" >"$logs/$scenario.log" 2>&1
  rc=$?
  echo "$rc $(( $(date +%s) - start ))" >"$logs/$scenario.result"
  if [ "$rc" = 0 ]; then
    echo "=== molecule $scenario passed in $(( $(date +%s) - start ))s"
  else
    echo "=== molecule $scenario FAILED (rc=$rc) after $(( $(date +%s) - start ))s; last lines of $logs/$scenario.log:"
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
