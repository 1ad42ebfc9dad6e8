#!/usr/bin/env bash
# Runs the test suite N times with B busy loops beside it and reports every
# failure with its test name. Run it by hand (not in CI) before changing
# tests or the daemon:
#
#   scripts/stress.sh [N=10] [B=3] [extra cargo test arguments...]
#
# e.g. `scripts/stress.sh 10 3` for the hermetic suite, or, with the mail
# servers of scripts/integration.sh running and their variables exported,
# `scripts/stress.sh 5 3 -- --ignored` for the tests against real servers.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
busy=${2:-3}
shift $(( $# > 2 ? 2 : $# ))

cargo test --release --no-run -q "$@" >/dev/null 2>&1 || { echo "the tests do not build" >&2; exit 2; }

loops=()
stop_loops() { for p in "${loops[@]}"; do kill "$p" 2>/dev/null; done; }
trap stop_loops EXIT
for _ in $(seq "$busy"); do
  yes >/dev/null &
  loops+=($!)
done

logs=$(mktemp -d)
failed_runs=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  if cargo test --release --no-fail-fast "$@" >"$logs/run-$i.log" 2>&1; then
    echo "run $i: passed ($(( $(date +%s) - start )) s)"
  else
    failed_runs=$((failed_runs + 1))
    names=$(grep -E '^test .* \.\.\. FAILED$' "$logs/run-$i.log" | sed -E 's/^test (.*) \.\.\. FAILED$/\1/' | tr '\n' ' ')
    echo "run $i: FAILED ($(( $(date +%s) - start )) s): ${names:-see the log} (log: $logs/run-$i.log)"
  fi
done
echo "$((runs - failed_runs)) passed, $failed_runs failed"
[ "$failed_runs" -eq 0 ]
