#!/usr/bin/env bash
# Narrative commands on one file of 500, 2,000 and 10,000 blocks (10 stages, each
# approved once; a block is what `narrative new --metrics score` writes, with a line
# of prose between blocks):
#   sync   every block tampered, so sync re-renders and rewrites all of them
#   new    one more block appended to the file
#   check  the synced file (the linear baseline each ratio is given against)
# With WB_BEFORE=OLD_BINARY, the older build's sync and new are timed too (RUNS_BEFORE
# runs each, default 3: the quadratic sync takes minutes at 10,000 blocks).
# Usage: bash bench/narrative.sh [SIZES...]   (default: 500 2000 10000)
source "$(dirname "$0")/common.sh"
[ $# -gt 0 ] || set -- 500 2000 10000
sizes=("$@")
repo="$WORK/narrative"
rm -rf "$repo" && mkdir -p "$repo" && cd "$repo"
git init -q -b main
for s in $(seq 1 10); do
  cat >> workbench.toml <<TOML
[stages.stage$s]
cmd = "mkdir -p \$WORKBENCH_RUN_DIR && echo '{\"score\": 0.$s}' > \$WORKBENCH_RUN_DIR/metrics.json"
metrics = "runs/{run_id}/metrics.json"

TOML
done
printf 'runs/*/\n' > .gitignore
echo '*.md workbench-narrative' > .gitattributes
git add -A && git commit -qm "bench"
"$WB" init >/dev/null
for s in $(seq 1 10); do
  id=$("$WB" --json run "stage$s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
  "$WB" review "$id" >/dev/null
  "$WB" card "$id" -m "Stage $s: score 0.$s meets the goal." >/dev/null 2>&1
  "$WB" approve "$id" --yes >/dev/null
done
: > one.md
for s in $(seq 1 10); do "$WB" narrative new "stage$s" one.md --metrics score >/dev/null; done
machine="$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "machine: $machine"
for n in "${sizes[@]}"; do
  # n blocks: the ten of one.md over and over, prose between them.
  python3 - one.md "$n" "synced-$n.md" "stale-$n.md" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"<!-- workbench:begin.*?<!-- workbench:end -->\n", text, re.S)
n = int(sys.argv[2])
out = ["# Report\n\n"]
for i in range(n):
    out.append(f"Prose paragraph {i} by hand.\n\n")
    out.append(blocks[i % len(blocks)])
    out.append("\n")
synced = "".join(out)
open(sys.argv[3], "w").write(synced)
open(sys.argv[4], "w").write(synced.replace("| score | 0.", "| score | 9."))
PY
  cp "synced-$n.md" report.md
  "$WB" narrative check report.md >/dev/null
  cp "stale-$n.md" report.md && "$WB" narrative sync report.md >/dev/null
  cmp -s report.md "synced-$n.md" || { echo "sync did not restore the $n-block file" >&2; exit 1; }
  runs=$([ "$n" -ge 10000 ] && echo 10 || echo 20)
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$RESULTS/narrative-$n.json" \
    -n "check, $n blocks (baseline)" --prepare "cp synced-$n.md report.md" "$WB narrative check report.md" \
    -n "sync, $n blocks all stale" --prepare "cp stale-$n.md report.md" "$WB narrative sync report.md" \
    -n "new, $n blocks present" --prepare "cp synced-$n.md report.md" "$WB narrative new stage1 report.md" \
    >/dev/null
  echo "$n blocks ($(wc -c < "synced-$n.md") bytes):"
  ratio "$RESULTS/narrative-$n.json"
  if [ -n "${WB_BEFORE:-}" ]; then
    hyperfine -N --warmup 0 --runs "${RUNS_BEFORE:-3}" --export-json "$RESULTS/narrative-before-$n.json" \
      -n "before: check, $n blocks" --prepare "cp synced-$n.md report.md" "$WB_BEFORE narrative check report.md" \
      -n "before: sync, $n blocks all stale" --prepare "cp stale-$n.md report.md" "$WB_BEFORE narrative sync report.md" \
      -n "before: new, $n blocks present" --prepare "cp synced-$n.md report.md" "$WB_BEFORE narrative new stage1 report.md" \
      >/dev/null
    ratio "$RESULTS/narrative-before-$n.json"
  fi
done
