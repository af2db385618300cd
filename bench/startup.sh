#!/usr/bin/env bash
# CLI start-up: the median of 10 runs of `--help`, `list` and `export` (on an empty data
# directory unless one is given), in seconds. Usage: bench/startup.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export STADTSTIMME_DATA_DIR="${1:-$(mktemp -d)}"
for command in "--help" "list" "export nosuchid"; do
  times=()
  for _ in $(seq 10); do
    start=$(date +%s.%N)
    # shellcheck disable=SC2086  # the command's words are meant to split
    .venv/bin/python -m ingest $command >/dev/null 2>&1 || true
    times+=("$(echo "$(date +%s.%N) - $start" | bc)")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (a[5]+a[6])/2}')
  echo "$command: median ${median} s of 10"
done
