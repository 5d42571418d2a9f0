#!/usr/bin/env bash
# `next` on the synthetic repository (50 stages, 10,000 runs, stages in every state),
# target <= 30 ms; baseline in the same run: `git status`.
source "$(dirname "$0")/common.sh"
repo=$(synthetic_repo)
cd "$repo"
"$WB" next >/dev/null
hyperfine -N --warmup 5 --runs 50 --export-json "$RESULTS/next.json" \
  -n 'git status' 'git status --porcelain' \
  -n 'git workbench next' "$WB next"
ratio "$RESULTS/next.json"
