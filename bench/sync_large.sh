#!/usr/bin/env bash
# Issue 15: sync, push and fetch on the large repository (bench/make_large_repo.sh, 50
# stages). Each ratio comes from one hyperfine invocation with the raw git command as
# its baseline:
#   - push of every record to an empty bare remote vs `git push` of the same refs;
#   - fetch of every record into a clone without them vs `git fetch` of the same refs;
#   - a no-op sync (everything already in step) vs a no-op `git fetch` of the same
#     refs, with every repository packed as after gc, then with loose refs.
# Usage: sync_large.sh [RUNS=100000]   (also 1000 and 10000 for the growth table)
source "$(dirname "$0")/common.sh"
runs=${1:-100000}
src=$(large_repo "$runs")
a="$WORK/synclarge-$runs-a"; b="$WORK/synclarge-$runs-b"; remote="$WORK/synclarge-$runs-remote.git"
rm -rf "$a" "$b" "$remote"
cp -a "$src" "$a"   # never write in the cached repository
git init -q --bare "$remote"
(cd "$a" && git remote add origin "$remote" && git push -q origin main)
git clone -q "$remote" "$b"
echo "runs: $(git -C "$a" for-each-ref refs/workbench/runs/ | wc -l); $(uptime)"
runs_spec='refs/workbench/runs/*:refs/workbench/runs/*'
notes_spec='refs/notes/workbench:refs/notes/workbench'
reset_remote="rm -rf $remote && git init -q --bare $remote && git -C $a push -q origin main && git -C $a for-each-ref --format='delete %(refname)' refs/workbench/remotes/ refs/notes/remotes/ | git -C $a update-ref --stdin"
cd "$a"
hyperfine --warmup 0 --runs "${PUSH_RUNS:-3}" --export-json "$RESULTS/sync_large_push_$runs.json" \
  --prepare "$reset_remote" \
  -n "git push of the same refs (baseline)" "git push -q origin '$runs_spec' '$notes_spec'" \
  -n "git workbench push ($runs runs, empty remote)" "$WB push"
ratio "$RESULTS/sync_large_push_$runs.json"
"$WB" push >/dev/null
# a fresh clone before each timing: the branch only, none of the records' objects, so
# both commands transfer every record (a clone that had them would skip the transfer)
fresh_b="rm -rf $b && git clone -q $remote $b 2>/dev/null"
cd "$WORK"
hyperfine --warmup 0 --runs "${PUSH_RUNS:-3}" --export-json "$RESULTS/sync_large_fetch_$runs.json" \
  --prepare "$fresh_b" \
  -n "git fetch of the same refs (baseline)" "cd $b && git fetch -q origin '+refs/workbench/runs/*:refs/workbench/remotes/origin/runs/*' '+refs/workbench/approved/*:refs/workbench/remotes/origin/approved/*' '+refs/notes/workbench:refs/notes/remotes/origin/workbench'" \
  -n "git workbench fetch ($runs runs into a clone without them)" "cd $b && $WB fetch >/dev/null"
ratio "$RESULTS/sync_large_fetch_$runs.json"
eval "$fresh_b"
cd "$b"
"$WB" fetch >/dev/null
"$WB" sync >/dev/null; (cd "$a" && "$WB" sync >/dev/null); "$WB" sync >/dev/null
noop_fetch="git fetch -q origin +refs/workbench/runs/*:refs/workbench/remotes/origin/runs/* +refs/workbench/approved/*:refs/workbench/remotes/origin/approved/* +refs/notes/workbench:refs/notes/remotes/origin/workbench"
# as after git gc: every repository packed
for r in "$a" "$b" "$remote"; do git -C "$r" gc -q; done
hyperfine -N --warmup 2 --runs "${NOOP_RUNS:-10}" --export-json "$RESULTS/sync_large_noop_$runs.json" \
  -n "git fetch, nothing new (baseline, packed)" "$noop_fetch" \
  -n "git workbench sync, nothing new ($runs runs, packed)" "$WB sync"
ratio "$RESULTS/sync_large_noop_$runs.json"
# loose refs: the tracking refs and run refs unpacked in the clone
git for-each-ref --format='%(objectname) %(refname)' refs/workbench/ refs/notes/ |
  while read -r o n; do mkdir -p ".git/$(dirname "$n")"; echo "$o" > ".git/$n"; done
printf '# pack-refs with: peeled fully-peeled sorted \n' > .git/packed-refs.new
grep -v ' refs/workbench/\| refs/notes/' .git/packed-refs | grep -v '^#' >> .git/packed-refs.new || true
mv .git/packed-refs.new .git/packed-refs
hyperfine -N --warmup 2 --runs "${NOOP_RUNS:-10}" --export-json "$RESULTS/sync_large_noop_loose_$runs.json" \
  -n "git fetch, nothing new (baseline, loose refs)" "$noop_fetch" \
  -n "git workbench sync, nothing new ($runs runs, loose refs)" "$WB sync"
ratio "$RESULTS/sync_large_noop_loose_$runs.json"
