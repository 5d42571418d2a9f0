#!/usr/bin/env bash
# push / fetch of 10,000 run records to a local bare remote, and a no-op sync
# (target <= 200 ms). Baseline in the same runs: a no-op `git fetch` of the same refs.
source "$(dirname "$0")/common.sh"
synthetic=$(synthetic_repo)
a="$WORK/sync-a"; b="$WORK/sync-b"; remote="$WORK/sync-remote.git"
rm -rf "$a" "$b" "$remote"
cp -a "$synthetic" "$a"
git init -q --bare "$remote"
(cd "$a" && git remote add origin "$remote" && git push -q origin main && "$WB" init >/dev/null)
git clone -q "$remote" "$b" && (cd "$b" && "$WB" init >/dev/null)
echo "runs: $(cd "$a" && git for-each-ref refs/workbench/runs/ | wc -l)"
reset_remote="rm -rf $remote && git init -q --bare $remote && git -C $a push -q origin main && git -C $a for-each-ref --format='delete %(refname)' refs/workbench/remotes/ | git -C $a update-ref --stdin"
clear_b="git -C $b for-each-ref --format='delete %(refname)' refs/workbench/ refs/notes/ | git -C $b update-ref --stdin"
cd "$a"
hyperfine --warmup 0 --runs 3 --export-json "$RESULTS/sync_push.json" \
  --prepare "$reset_remote" \
  -n 'git push --mirror-like (baseline)' "git push -q origin 'refs/workbench/runs/*:refs/workbench/runs/*' refs/notes/workbench:refs/notes/workbench" \
  -n 'git workbench push (10,000 runs, empty remote)' "$WB push"
ratio "$RESULTS/sync_push.json"
"$WB" push >/dev/null
cd "$b"
hyperfine --warmup 0 --runs 3 --export-json "$RESULTS/sync_fetch.json" \
  --prepare "$clear_b" \
  -n 'git fetch of the same refs (baseline)' "git fetch -q origin '+refs/workbench/runs/*:refs/workbench/remotes/origin/runs/*' '+refs/notes/workbench:refs/notes/remotes/origin/workbench'" \
  -n 'git workbench fetch (10,000 runs into a clone without them)' "$WB fetch"
ratio "$RESULTS/sync_fetch.json"
"$WB" fetch >/dev/null
"$WB" sync >/dev/null; (cd "$a" && "$WB" sync >/dev/null); "$WB" sync >/dev/null
hyperfine -N --warmup 2 --runs 15 --export-json "$RESULTS/sync_noop_loose.json" \
  -n 'git fetch, nothing new (baseline)' "git fetch -q origin +refs/workbench/runs/*:refs/workbench/remotes/origin/runs/* +refs/notes/workbench:refs/notes/remotes/origin/workbench" \
  -n 'git workbench sync, nothing new (loose refs)' "$WB sync"
ratio "$RESULTS/sync_noop_loose.json"
# git gc packs refs routinely; measure that state too
for r in "$a" "$b" "$remote"; do git -C "$r" pack-refs --all; done
hyperfine -N --warmup 2 --runs 15 --export-json "$RESULTS/sync_noop.json" \
  -n 'git fetch, nothing new (baseline)' "git fetch -q origin +refs/workbench/runs/*:refs/workbench/remotes/origin/runs/* +refs/notes/workbench:refs/notes/remotes/origin/workbench" \
  -n 'git workbench sync, nothing new (packed refs)' "$WB sync"
ratio "$RESULTS/sync_noop.json"
