#!/usr/bin/env bash
# `run`'s cost as runs pile up (issue 15, item 1): the same one-stage project with 10
# runs and with 10,000 runs of that stage on one commit (so one note holds 10,000
# index lines), timed in one hyperfine invocation; target: the 10,000th run within
# 1.25x of the 10th. Each timing records a run, as a sweep does.
source "$(dirname "$0")/common.sh"
for n in 10 10000; do
  repo="$WORK/flat-$n"
  if [ ! -f "$repo/.built" ]; then
    bash "$BENCH_DIR/make_large_repo.sh" "$repo" 1 "$n" 1 >&2 && touch "$repo/.built"
  fi
  rm -rf "$repo-copy" && cp -a "$repo" "$repo-copy"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine --warmup 5 --runs "${RUNS:-100}" --export-json "$RESULTS/run_flat.json" \
  -n 'run, 10 runs recorded' "cd $WORK/flat-10-copy && $WB run stage1 >/dev/null 2>&1" \
  -n 'run, 10,000 runs recorded' "cd $WORK/flat-10000-copy && $WB run stage1 >/dev/null 2>&1" >/dev/null
ratio "$RESULTS/run_flat.json"
cd "$WORK/flat-10000-copy"
echo "after: $(git for-each-ref refs/workbench/runs/ | wc -l) runs, $(find .git/refs/workbench/runs -type f | wc -l) loose, journal $(stat -c %s .git/workbench/notes-journal 2>/dev/null || echo 0) bytes"
git fsck --strict --no-dangling 2>&1 | tail -2
