#!/usr/bin/env bash
# `compare` at 100,000 runs over 50 stages (issue 15), on bench/make_large_repo.sh's
# repository, copied first (the table cache is written into the copy, never into the
# cached original).
# 1. Warm (table cache filled by a first call): every format compare offers (terminal
#    table at 80 columns, --wide, --vertical, csv, --json, markdown) in ONE hyperfine
#    run whose first command, the baseline, is `git for-each-ref refs/workbench/runs/`
#    over the same refs (target: each within 2x).
# 2. Peak RSS of each format from /usr/bin/time -v, warm and cold (target <= 150 MiB).
# 3. Cold (table cache removed before each call): csv against for-each-ref.
# 4. Growth: warm csv at 1k, 10k and 100k runs, each against for-each-ref.
# SIZES="1000 10000 100000" picks the growth sizes; RUNS=... the hyperfine runs.
source "$(dirname "$0")/common.sh"
export COLUMNS=80
copy() { # copy RUNS: a private copy of the large repository of RUNS runs
  local src dst
  src=$(large_repo "$1")
  dst="$WORK/compare-large-$1"
  rm -rf "$dst"
  cp -a "$src" "$dst"
  echo "$dst"
}
formats=("compare" "compare --wide" "compare --vertical" "compare --format csv"
         "--json compare" "compare --format markdown")
repo=$(copy 100000)
cd "$repo" || exit 2
"$WB" compare --format csv >/dev/null
cmds=(-n "git for-each-ref refs/workbench/runs/" "git for-each-ref refs/workbench/runs/")
for f in "${formats[@]}"; do cmds+=(-n "${f/--json compare/compare --json} (warm)" "$WB $f"); done
hyperfine -N --warmup 2 --runs "${RUNS:-10}" --output=pipe \
  --export-json "$RESULTS/compare_large_warm.json" "${cmds[@]}"
ratio "$RESULTS/compare_large_warm.json"
rss() { # rss ARGS...: peak RSS of one call, MiB
  local kb
  kb=$( { /usr/bin/time -v "$WB" "$@" >/dev/null; } 2>&1 | awk -F': ' '/Maximum resident/ {print $2}')
  echo "$((kb / 1024)) MiB"
}
for f in "${formats[@]}"; do
  # shellcheck disable=SC2086
  warm=$(rss $f)
  rm -f .git/workbench/table-cache
  # shellcheck disable=SC2086
  cold=$(rss $f)
  echo "  peak RSS $f: warm $warm, cold $cold"
done
hyperfine -N --warmup 1 --runs "${COLD_RUNS:-5}" --output=pipe \
  --export-json "$RESULTS/compare_large_cold.json" \
  --prepare 'rm -f .git/workbench/table-cache' \
  -n 'git for-each-ref refs/workbench/runs/' 'git for-each-ref refs/workbench/runs/' \
  -n 'compare --format csv (cold)' "$WB compare --format csv"
ratio "$RESULTS/compare_large_cold.json"
for n in ${SIZES:-1000 10000 100000}; do
  cd "$(copy "$n")" || exit 2
  "$WB" compare --format csv >/dev/null
  echo "== growth: $n runs"
  hyperfine -N --warmup 2 --runs "${RUNS:-10}" --output=pipe \
    --export-json "$RESULTS/compare_large_growth_$n.json" \
    -n "git for-each-ref refs/workbench/runs/ ($n)" 'git for-each-ref refs/workbench/runs/' \
    -n "compare --format csv (warm, $n)" "$WB compare --format csv"
  ratio "$RESULTS/compare_large_growth_$n.json"
done
