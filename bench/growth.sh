#!/usr/bin/env bash
# The growth table (issue 15, item 3): each command at 1,000, 10,000 and 100,000 runs
# over 50 stages (bench/make_large_repo.sh), on a copy of each repository. One
# hyperfine invocation per size, `git rev-parse HEAD` as the baseline. The hook stages
# a narrative with 100 blocks (10 blocks for each of the 10 approved stages); `run`
# records a run of a stage at every timing (so it also pays for the runs it adds).
# Sync is measured by bench/sync_large.sh.
source "$(dirname "$0")/common.sh"
RUNS=${RUNS:-10}
for n in ${SIZES:-1000 10000 100000}; do
  src=$(large_repo "$n")
  repo="$WORK/growth-$n"
  rm -rf "$repo" && cp -a "$src" "$repo" && cd "$repo"
  echo 'report.md workbench-narrative' > .gitattributes
  printf '# Report\n\n' > report.md
  for i in $(seq 1 10); do
    for s in $(seq 1 10); do "$WB" narrative new "stage$s" report.md --metrics acc >/dev/null; done
  done
  git add -A && git commit -q --no-verify -m "report"
  echo "prose" >> report.md && git add report.md
  "$WB" compare --format csv >/dev/null
  run_id=$(git for-each-ref --count=1 --format='%(refname:lstrip=4)' refs/workbench/runs/stage7/)
  echo "== $n runs (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$RESULTS/growth-$n.json" \
    -n 'git rev-parse HEAD' 'git rev-parse HEAD' \
    -n status "$WB status" \
    -n next "$WB next" \
    -n 'log -n 20' "$WB log -n 20" \
    -n show "$WB show stage7/$run_id" \
    -n 'hook pre-commit' "$WB hook pre-commit" \
    -n 'compare csv (warm)' "$WB compare --format csv" \
    -n 'run stage40' "$WB run stage40" >/dev/null
  ratio "$RESULTS/growth-$n.json"
done
