#!/usr/bin/env bash
# `sweep` overhead per combination (target <= 20 ms beyond the command): a 50-value
# sweep of a stage whose command is `true`, against running `sh -c true` 50 times in
# the same hyperfine run. Overhead per combination = (sweep - baseline) / 50.
source "$(dirname "$0")/common.sh"
repo="$WORK/sweep"
rm -rf "$repo" && mkdir -p "$repo" && cd "$repo"
git init -q -b main
printf '[stages.noop]\ncmd = "true"\nparams = { file = "params.yaml", keys = ["x"] }\n' > workbench.toml
printf 'x: 0\n' > params.yaml
printf 'runs/*/\n' > .gitignore
git add -A && git commit -qm noop
"$WB" init >/dev/null
hyperfine -N --warmup 1 --runs 10 --export-json "$RESULTS/sweep.json" \
  -n '50 x sh -c true' "sh -c 'for i in \$(seq 50); do sh -c true; done'" \
  -n 'git workbench sweep noop -p x=range(50)' "$WB sweep noop -p x=range(50)" \
  -n 'git workbench sweep noop -p x=range(50) -j 2' "$WB sweep noop -p x=range(50) -j 2"
ratio "$RESULTS/sweep.json"
python3 - "$RESULTS/sweep.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r[1:]:
    print(f"  {x['command']}: {(x['mean'] - r[0]['mean']) * 1000 / 50:.2f} ms overhead per combination")
PY
