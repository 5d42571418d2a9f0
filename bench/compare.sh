#!/usr/bin/env bash
# `compare` at 10,000 runs.
# 1. Its formats, in one hyperfine run: the terminal table (COLUMNS=80, as piped), its
#    --wide and --vertical layouts and --json against --format csv (the baseline; target:
#    table and json within 2x of csv and under 100 MiB peak RSS, from /usr/bin/time -v),
#    on a sweep repository (bench/make_sweep_repo.sh: 50 stages, each swept 20 x 10 over
#    two params with a long shared prefix: 153 sparse columns). OLD=path/to/old/binary
#    adds the same commands by that build.
# 2. --format csv on the synthetic repository (target <= 100 ms), warm (table cache
#    filled by the first call) and cold (cache removed before each call), against
#    `git for-each-ref` over the same run refs. FORMATS_ONLY=1 skips it.
source "$(dirname "$0")/common.sh"
sweep="$WORK/sweep-wide"
if [ ! -f "$sweep/.built" ]; then
  bash "$BENCH_DIR/make_sweep_repo.sh" "$sweep" 50 20 10 >&2
  touch "$sweep/.built"
fi
cd "$sweep"
export COLUMNS=80
"$WB" compare --format csv >/dev/null
cmds=()
for b in "$WB" ${OLD:+"$OLD"}; do
  tag=""; [ "$b" != "$WB" ] && tag=" (before)"
  cmds+=(-n "compare --format csv$tag" "$b compare --format csv"
         -n "compare (table, 80 columns)$tag" "$b compare"
         -n "compare --json$tag" "$b --json compare")
done
cmds+=(-n "compare --wide" "$WB compare --wide" -n "compare --vertical" "$WB compare --vertical")
hyperfine -N --warmup 3 --runs "${RUNS:-20}" --output=pipe --export-json "$RESULTS/compare_formats.json" "${cmds[@]}"
ratio "$RESULTS/compare_formats.json"
for b in "$WB" ${OLD:+"$OLD"}; do
  for args in "compare --format csv" "compare" "--json compare" "compare --wide" "compare --vertical"; do
    # shellcheck disable=SC2086
    rss=$( { /usr/bin/time -v "$b" $args >/dev/null; } 2>&1 | awk -F': ' '/Maximum resident/ {print $2}')
    echo "  peak RSS $b $args: $((rss / 1024)) MiB ($rss KiB)"
  done
done
[ -n "${FORMATS_ONLY:-}" ] && exit 0
cd "$(synthetic_repo)"
"$WB" compare --format csv >/dev/null
hyperfine -N --warmup 3 --runs 20 --export-json "$RESULTS/compare.json" \
  -n 'git for-each-ref refs/workbench/runs/' 'git for-each-ref refs/workbench/runs/' \
  -n 'git workbench compare --format csv (warm)' "$WB compare --format csv"
ratio "$RESULTS/compare.json"
hyperfine --warmup 1 --runs 5 --export-json "$RESULTS/compare_cold.json" \
  --prepare 'rm -f .git/workbench/table-cache' \
  -n 'git for-each-ref refs/workbench/runs/' 'git for-each-ref refs/workbench/runs/ >/dev/null' \
  -n 'git workbench compare --format csv (cold)' "$WB compare --format csv >/dev/null"
ratio "$RESULTS/compare_cold.json"
