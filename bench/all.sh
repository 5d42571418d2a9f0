#!/usr/bin/env bash
# Runs every benchmark; figures go to bench/results/*.json and the terminal.
set -euo pipefail
here=$(dirname "$0")
for b in run_overhead hash status next review hook hook_distinct compare diff history dvc sweep params_view sync sync_large compare_large run_flat growth progress install lfs complete; do
  echo "== $b"
  bash "$here/$b.sh"
done
