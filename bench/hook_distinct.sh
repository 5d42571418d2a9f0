#!/usr/bin/env bash
# The pre-commit hook with a narrative of 100 blocks citing 100 distinct runs (two
# approved runs of each of 50 stages, the first superseded by the second), at 100,000
# runs (issue 15, target <= 10 ms). Baseline in the same invocation:
# `git diff --cached --name-only`.
source "$(dirname "$0")/common.sh"
src=$(large_repo "${N:-100000}")
repo="$WORK/hook-distinct"
rm -rf "$repo" && cp -a "$src" "$repo" && cd "$repo"
echo 'report.md workbench-narrative' > .gitattributes
printf '# Report\n\n' > report.md
for round in 1 2; do
  for s in $(seq 1 50); do
    id=$("$WB" --json run "stage$s" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
    "$WB" review "stage$s/$id" >/dev/null
    "$WB" approve "stage$s/$id" --yes >/dev/null
    "$WB" narrative new "stage$s" report.md --metrics acc >/dev/null
  done
  echo "round $round done"
done
echo "blocks: $(grep -c 'workbench:begin' report.md), distinct runs: $(grep -o 'run=[^ ]*' report.md | sort -u | wc -l)"
git add -A && git commit -q --no-verify -m report
echo "prose" >> report.md && git add report.md
"$WB" hook pre-commit; echo "hook exit: $?"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup 5 --runs 30 --export-json "$RESULTS/hook_distinct.json" \
  -n 'git diff --cached --name-only' 'git diff --cached --name-only' \
  -n 'hook pre-commit, 100 blocks, 100 distinct runs' "$WB hook pre-commit" >/dev/null
ratio "$RESULTS/hook_distinct.json"
