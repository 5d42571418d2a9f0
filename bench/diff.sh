#!/usr/bin/env bash
# `diff` of two 10,000-row comparison tables (HEAD vs the working tree; target <= 100 ms),
# against `git diff --no-index --stat` of the same two files in the same run.
source "$(dirname "$0")/common.sh"
synthetic=$(synthetic_repo)
repo="$WORK/diff"
rm -rf "$repo" && cp -a "$synthetic" "$repo" && cd "$repo"
"$WB" compare -o >/dev/null 2>&1
git add -f runs/comparison.csv && git commit -q --no-verify -m "table"
"$WB" review stage40@latest >/dev/null || true
"$WB" run stage41 >/dev/null 2>&1
"$WB" compare -o >/dev/null 2>&1
git show HEAD:runs/comparison.csv > "$WORK/old.csv"
echo "rows: $(($(wc -l < runs/comparison.csv) - 1)), columns: $(head -1 runs/comparison.csv | tr ',' '\n' | wc -l)"
hyperfine -N -i --warmup 3 --runs 20 --export-json "$RESULTS/diff.json" \
  -n 'git diff --no-index --stat' "git diff --no-index --stat $WORK/old.csv runs/comparison.csv" \
  -n 'git workbench diff (10,000 rows)' "$WB diff --format csv"
ratio "$RESULTS/diff.json"
