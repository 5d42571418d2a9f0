#!/usr/bin/env bash
# Pre-commit hook latency: a commit that stages a narrative with 100 blocks, in the
# synthetic repository with 10,000 runs. Reports the hook alone (target <= 10 ms median)
# and what it adds to `git commit`, measured side by side against the same commit
# with the hook skipped (--no-verify).
source "$(dirname "$0")/common.sh"
synthetic=$(synthetic_repo)
repo="$WORK/hook"
rm -rf "$repo" && cp -a "$synthetic" "$repo" && cd "$repo"
echo 'report.md workbench-narrative' > .gitattributes
printf '# Report\n\n' > report.md
for i in $(seq 1 10); do
  for s in $(seq 1 10); do "$WB" narrative new "stage$s" report.md --metrics alerts >/dev/null 2>&1 || true; done
done
blocks=$(grep -c 'workbench:begin' report.md)
echo "report.md holds $blocks blocks"
git add -A && git commit -q --no-verify -m "report"
"$WB" hooks install >/dev/null
base=$(git rev-parse HEAD)
export PATH="$(dirname "$WB"):$PATH"
stage_change='git reset -q --soft '"$base"' && echo "prose $RANDOM" >> report.md && git add report.md'
eval "$stage_change"
hyperfine -N --warmup 5 --runs 50 --export-json "$RESULTS/hook.json" \
  -n 'git diff --cached --name-only (baseline)' 'git diff --cached --name-only' \
  -n 'git-workbench hook pre-commit (100 blocks staged)' "$WB hook pre-commit"
ratio "$RESULTS/hook.json"
hyperfine --warmup 3 --runs 30 --export-json "$RESULTS/commit_hook.json" \
  --prepare "$stage_change" \
  -n 'git commit --no-verify' 'git commit -q --no-verify -m x' \
  -n 'git commit (hook runs)' 'git commit -q -m x'
ratio "$RESULTS/commit_hook.json"
