#!/usr/bin/env bash
# A 200-commit history with one approved run per commit (4 params, 5 metrics;
# bench/make_history_repo.sh): what a user runs to compare experiments across commits,
# against `git show` of one file in the same run as the baseline:
#   diff --metrics HEAD~100 HEAD   (target <= 20 ms)
#   diff --metrics HEAD~1 HEAD
#   diff HEAD~1 HEAD               (the comparison table across one commit)
#   compare                        (every run of every commit), warm and cold
# DVC itself is timed by bench/dvc.sh, on its own history made for both tools.
source "$(dirname "$0")/common.sh"
repo="$WORK/history"
if [ ! -f "$repo/.built" ]; then
  bash "$BENCH_DIR/make_history_repo.sh" "$repo" 200 >&2
  touch "$repo/.built"
fi
cd "$repo"
echo "commits: $(git rev-list --count HEAD), runs: $(git for-each-ref refs/workbench/runs/ | wc -l)"
"$WB" compare --format csv >/dev/null
hyperfine -N --warmup 3 --runs 30 --export-json "$RESULTS/history.json" \
  -n 'git show HEAD:runs/comparison.csv' 'git show HEAD:runs/comparison.csv' \
  -n 'git workbench diff --metrics HEAD~100 HEAD' "$WB diff --metrics HEAD~100 HEAD" \
  -n 'git workbench diff --metrics HEAD~1 HEAD' "$WB diff --metrics HEAD~1 HEAD" \
  -n 'git workbench diff HEAD~1 HEAD' "$WB diff HEAD~1 HEAD" \
  -n 'git workbench compare (200 runs, warm)' "$WB compare --format csv" \
  -n 'git workbench log (200 runs)' "$WB log"
ratio "$RESULTS/history.json"
hyperfine -N --warmup 1 --runs 10 --export-json "$RESULTS/history_cold.json" \
  --prepare 'rm -f .git/workbench/table-cache' \
  -n 'git show HEAD:runs/comparison.csv' 'git show HEAD:runs/comparison.csv' \
  -n 'git workbench compare (200 runs, cold cache)' "$WB compare --format csv"
ratio "$RESULTS/history_cold.json"
