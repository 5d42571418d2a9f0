#!/usr/bin/env bash
# `compare` on the synthetic repository with 10,000 runs (target <= 100 ms), warm
# (table cache filled by the first call) and cold (cache removed before each call).
# Baseline in the same run: `git for-each-ref` over the same run refs.
source "$(dirname "$0")/common.sh"
repo=$(synthetic_repo)
cd "$repo"
"$WB" compare --format csv >/dev/null
hyperfine -N --warmup 3 --runs 20 --export-json "$RESULTS/compare.json" \
  -n 'git for-each-ref refs/workbench/runs/' 'git for-each-ref refs/workbench/runs/' \
  -n 'git workbench compare --format csv (warm)' "$WB compare --format csv"
ratio "$RESULTS/compare.json"
hyperfine --warmup 1 --runs 5 --export-json "$RESULTS/compare_cold.json" \
  --prepare 'rm -f .git/workbench/table-cache' \
  -n 'git for-each-ref refs/workbench/runs/' 'git for-each-ref refs/workbench/runs/ >/dev/null' \
  -n 'git workbench compare --format csv (cold)' "$WB compare --format csv >/dev/null"
ratio "$RESULTS/compare_cold.json"
