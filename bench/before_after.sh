#!/usr/bin/env bash
# The same work done by two builds, side by side in each hyperfine run: BEFORE (the
# binary named by $WB_BEFORE, e.g. one built from an older commit) and the current
# release build. Used to show a restructuring costs nothing:
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release)
#   WB_BEFORE=/tmp/old/target/release/git-workbench bash bench/before_after.sh
# ONLY=snapshot (or run, synthetic, sweep, narrative; space-separated) times only those parts.
source "$(dirname "$0")/common.sh"
OLD="${WB_BEFORE:?set WB_BEFORE to the binary to compare with}"
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
if want run; then
# run: wrapper overhead on a `true` stage
tpl="$WORK/ba-run-template"; repo="$WORK/ba-run"; rm -rf "$tpl" && mkdir -p "$tpl" && cd "$tpl"
git init -q -b main && printf '[stages.noop]\ncmd = "true"\n' > workbench.toml
git add -A && git commit -qm init && "$WB" init >/dev/null
cp -a "$tpl" "$repo" && cd "$repo"
PREPARE=$(fresh "$tpl" "$repo") RUNS=100 pair 'run noop -- true' ba_run run noop -- true
fi
if want synthetic; then
# the 50-stage, 10,000-run repository
cd "$(synthetic_repo)"
pair status ba_status status
pair next ba_next next
pair 'compare --format csv (warm)' ba_compare compare --format csv
pair 'log -n 20' ba_log log -n 20
pair 'show stage1@latest' ba_show show stage1@latest
fi
if want narrative; then
# the hook and verify on a staged narrative with 100 blocks (bench/hook.sh's set-up),
# in the 10,000-run repository
repo="$WORK/ba-narrative"; rm -rf "$repo" && cp -a "$(synthetic_repo)" "$repo" && cd "$repo"
echo 'report.md workbench-narrative' > .gitattributes
printf '# Report\n\n' > report.md
for i in $(seq 1 10); do
  for s in $(seq 1 10); do "$WB" narrative new "stage$s" report.md --metrics alerts >/dev/null 2>&1 || true; done
done
git add -A && git commit -q --no-verify -m report
base=$(git rev-parse HEAD)
echo "prose" >> report.md && git add report.md && git commit -q --no-verify -m prose
echo "more prose" >> report.md && git add report.md
pair 'hook pre-commit (100 blocks staged)' ba_hook hook pre-commit
pair 'verify --range (1 commit, 100 blocks)' ba_verify verify --range "$base..HEAD"
pair 'narrative check (worktree)' ba_check narrative check
fi
if want sweep; then
# sweep: 50 combinations of a `true` stage (the old sweep spawns a process each)
tpl="$WORK/ba-sweep-template"; repo="$WORK/ba-sweep"; rm -rf "$tpl" && mkdir -p "$tpl" && cd "$tpl"
git init -q -b main
printf '[stages.noop]\ncmd = "true"\nparams = { file = "params.yaml", keys = ["x"] }\n' > workbench.toml
printf 'x: 0\n' > params.yaml && printf 'runs/*/\n' > .gitignore
git add -A && git commit -qm noop && "$WB" init >/dev/null
cp -a "$tpl" "$repo" && cd "$repo"
PREPARE=$(fresh "$tpl" "$repo") RUNS=10 pair 'sweep of 50' ba_sweep sweep noop -p 'x=range(50)'
PREPARE=$(fresh "$tpl" "$repo") RUNS=10 pair 'sweep of 50 -j 2' ba_sweep_j2 sweep noop -p 'x=range(50)' -j 2
fi
if want snapshot; then
# run where the snapshot has changed tracked files to read: review/ committed (each run
# rewrites review/noop/manifest.json) and a modified tracked file of 1 MiB, then 64 MiB
# (SNAPSHOT_MIB="1" for one size)
for size in ${SNAPSHOT_MIB:-1 64}; do
  tpl="$WORK/ba-snap-template"; repo="$WORK/ba-snap"; rm -rf "$tpl" && mkdir -p "$tpl" && cd "$tpl"
  git init -q -b main && printf '[stages.noop]\ncmd = "true"\n' > workbench.toml
  head -c $((size << 20)) /dev/urandom > data.bin && printf 'runs/*/\n' > .gitignore
  git add -A && git commit -qm init && "$WB" init >/dev/null
  "$WB" run noop -- true >/dev/null 2>&1 && git add -A && git commit -qm mirror
  "$WB" run noop -- true >/dev/null 2>&1 && head -c $((size << 20)) /dev/urandom > data.bin
  cp -a "$tpl" "$repo" && cd "$repo"
  PREPARE=$(fresh "$tpl" "$repo") RUNS=60 pair "run, review/ committed, $size MiB file modified" \
    "ba_run_snapshot_$size" run noop -- true
done
fi
