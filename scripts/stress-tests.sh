#!/usr/bin/env bash
# Run the README's test command N times in a row (default 5) while two CPU hogs keep the
# machine busy, and fail on the first failing run: the suite must pass on a loaded machine,
# not only on an idle one. The hogs are stopped however the script ends.
#
#   bash scripts/stress-tests.sh [N] [extra pytest arguments...]
#
# For the PostgreSQL tests, export TELEGENT_TEST_PG_DSN first (eval "$(bash .ci/postgres.sh)").
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
shift || true
case "$runs" in
    '' | *[!0-9]*) echo "usage: bash scripts/stress-tests.sh [N] [pytest arguments...]" >&2; exit 2 ;;
esac

hogs=()
stop_hogs() {
    for pid in "${hogs[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${hogs[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in 1 2; do
    # A busy loop in its own process: one core's worth of load each.
    python3 -c 'while True: pass' &
    hogs+=("$!")
done
echo "stress-tests: two CPU hogs running (pids ${hogs[*]}); $runs runs of the test command" >&2

for i in $(seq 1 "$runs"); do
    started=$(date +%s)
    # The README's test command, as .ci/run runs it.
    if python3 -m pytest -m "not slow" -n 4 -q -p no:cacheprovider "$@"; then
        echo "stress-tests: run $i/$runs passed in $(( $(date +%s) - started )) s" >&2
    else
        echo "stress-tests: run $i/$runs FAILED after $(( $(date +%s) - started )) s" >&2
        exit 1
    fi
done
echo "stress-tests: all $runs runs passed under load" >&2
