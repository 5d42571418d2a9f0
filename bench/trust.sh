#!/usr/bin/env bash
# What judging every record costs (issue 10): the build before it ($WB_BEFORE) and the
# current one on the same work in the same runs — status, next, log, show, doctor on
# the 50-stage, 10,000-run repository; approve and reject of a reviewed run; a fetch of
# all 10,000 records into a clone without them (each judged in the quarantine, trees
# included) and a no-op sync.
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release)
#   WB_BEFORE=/tmp/old/target/release/git-workbench bash bench/trust.sh
source "$(dirname "$0")/common.sh"
OLD="${WB_BEFORE:?set WB_BEFORE to the binary to compare with}"
synthetic=$(synthetic_repo)
cd "$synthetic"
pair status tr_status status
pair next tr_next next
pair 'log -n 20' tr_log log -n 20
pair 'show stage1@latest' tr_show show stage1@latest
RUNS=5 pair doctor tr_doctor doctor
# decisions on a fresh reviewed run
tpl="$WORK/tr-decide-template"; repo="$WORK/tr-decide"; rm -rf "$tpl" && mkdir -p "$tpl" && cd "$tpl"
git init -q -b main && printf '[stages.s]\ncmd = "echo x > runs/out.txt"\nouts = ["runs/out.txt"]\n' > workbench.toml
printf 'runs/\n' > .gitignore && mkdir runs && git add -A && git commit -qm init && "$WB" init >/dev/null
id=$("$WB" --json run s | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
"$WB" review "$id" >/dev/null || true
cp -a "$tpl" "$repo" && cd "$repo"
PREPARE=$(fresh "$tpl" "$repo") RUNS=30 pair approve tr_approve approve "$id" --yes --force
PREPARE=$(fresh "$tpl" "$repo") RUNS=30 pair reject tr_reject reject "$id" --issue no
# fetch of 10,000 records into a clone without them, and a no-op sync
remote="$WORK/tr-remote.git"; a="$WORK/tr-a"; b="$WORK/tr-b"
rm -rf "$remote" "$a" "$b"
git init -q --bare "$remote"
cp -a "$synthetic" "$a"
(cd "$a" && git remote add origin "$remote" && git push -q origin main && "$WB" init >/dev/null && "$WB" push >/dev/null)
git clone -q "$remote" "$b" && (cd "$b" && "$WB" init >/dev/null)
cd "$b"
clear_b="sh -c \"git -C $b for-each-ref --format='delete %(refname)' refs/workbench/ refs/notes/ | git -C $b update-ref --stdin && rm -rf $b/.git/workbench/refused\""
PREPARE="$clear_b" RUNS=3 pair 'fetch of 10,000 records' tr_fetch fetch
"$WB" sync >/dev/null
RUNS=15 pair 'sync, nothing new' tr_sync_noop sync
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
