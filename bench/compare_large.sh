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
# 5. With OLD=<another build> (say main's), first a golden check: every format with
#    a dozen filters and options on the 10,000-run repository, byte for byte against
#    OLD's output (each build on its own copy: their table caches differ in version).
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
if [ -n "${OLD:-}" ]; then
  old_repo="$WORK/compare-golden-old"; rm -rf "$old_repo"; cp -a "$(large_repo 10000)" "$old_repo"
  new_repo=$(copy 10000)
  opts=("" "--stage stage3" "--stage stage3 --stage stage7 --only-changed" "--where acc>0.5"
        "--sort -loss" "--sort lr --stage stage2" "--last 7" "--columns metrics.*"
        "--exclude params.*" "--only-changed" "--state executed"
        "--where loss<0.2 --sort acc --last 30" "--stage stage5 --columns *lr")
  fmts=("" "--wide" "--vertical" "--format csv" "--json" "--format markdown")
  cases=0 differ=0
  for pass in cold warm; do
    for o in "${opts[@]}"; do for f in "${fmts[@]}"; do
      [ "$pass" = cold ] && rm -f "$old_repo/.git/workbench/table-cache" "$new_repo/.git/workbench/table-cache"
      # shellcheck disable=SC2086
      a=$(cd "$old_repo" && $OLD compare $o $f 2>&1; echo "exit $?")
      # shellcheck disable=SC2086
      b=$(cd "$new_repo" && "$WB" compare $o $f 2>&1; echo "exit $?")
      cases=$((cases + 1))
      [ "$a" = "$b" ] || { differ=$((differ + 1)); echo "  DIFFERS ($pass): compare $o $f"; }
    done; done
  done
  echo "== golden: $cases cases (cold and warm) against $OLD, $differ differ"
fi
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
