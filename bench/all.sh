#!/usr/bin/env bash
# Runs every benchmark; figures go to bench/results/*.json and the terminal.
set -euo pipefail
here=$(dirname "$0")
for b in run_overhead hash status next review hook compare diff history dvc sweep params_view sync sync_large compare_large progress install lfs complete; do
  echo "== $b"
  bash "$here/$b.sh"
done
