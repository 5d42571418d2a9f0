#!/usr/bin/env bash
# `status` on a repository with 50 stages and 10,000 recorded runs (target: <= 20 ms
# warm), with loose run refs (as `run` leaves them) and after `git pack-refs`.
# Baseline in the same run: `git status` on the same repository.
source "$(dirname "$0")/common.sh"
repo=$(synthetic_repo)
cd "$repo"
"$WB" status >/dev/null
hyperfine -N --warmup 5 --runs 50 --export-json "$RESULTS/status_loose.json" \
  -n 'git status' -n 'git workbench status' \
  'git status --porcelain' "$WB status"
ratio "$RESULTS/status_loose.json"
cp -a "$repo" "$repo-packed"
cd "$repo-packed" && git pack-refs --all
"$WB" status >/dev/null
hyperfine -N --warmup 5 --runs 50 --export-json "$RESULTS/status_packed.json" \
  -n 'git status' -n 'git workbench status' \
  'git status --porcelain' "$WB status"
ratio "$RESULTS/status_packed.json"
rm -rf "$repo-packed"
