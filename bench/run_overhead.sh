#!/usr/bin/env bash
# Wrapper overhead: `git workbench run noop -- true` versus a bare `true`.
# The difference of the means is what recording a run costs (target: <= 15 ms).
source "$(dirname "$0")/common.sh"
repo="$WORK/overhead"
rm -rf "$repo" && mkdir -p "$repo" && cd "$repo"
git init -q -b main
printf '[stages.noop]\ncmd = "true"\n' > workbench.toml
git add -A && git commit -qm init
"$WB" init >/dev/null
hyperfine -N --warmup 20 --runs 200 \
  --export-json "$RESULTS/run_overhead.json" \
  -n 'true' -n 'git workbench run noop -- true' \
  'true' "$WB run noop -- true"
ratio "$RESULTS/run_overhead.json"
