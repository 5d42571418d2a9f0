#!/usr/bin/env bash
# Large outputs in git LFS (docs/large-outputs.md): what keeping a 256 MiB output in
# LFS adds to `run` (against the same stage hash-only), `push` of its object to a
# local bare remote, and `checkout` from the local LFS store (against `cp` of the same
# bytes). Needs git-lfs (.ci/deps installs it). SIZE_MIB=... for another size.
source "$(dirname "$0")/common.sh"
command -v git-lfs >/dev/null || { echo "git-lfs is required (apt-get install git-lfs)" >&2; exit 2; }
size=${SIZE_MIB:-256}
repo="$WORK/lfs"
remote="$WORK/lfs-remote.git"
rm -rf "$repo" "$remote" && mkdir -p "$repo" && cd "$repo"
git init -q -b main
git init -q --bare -b main "$remote"
git remote add origin "$remote"
mkdir -p data && head -c $((size * 1024 * 1024)) /dev/urandom > data/big.bin
cat > workbench.toml <<'TOML'
[stages.hashonly]
cmd = "cp data/big.bin \"$WORKBENCH_RUN_DIR/big.bin\""
outs = ["runs/{run_id}/big.bin"]
max_stored_size = "1MiB"

[stages.inlfs]
cmd = "cp data/big.bin \"$WORKBENCH_RUN_DIR/big.bin\""
outs = ["runs/{run_id}/big.bin"]
max_stored_size = "1MiB"
large_outputs = "lfs"
TOML
printf 'data/\nruns/\n' > .gitignore
git add workbench.toml .gitignore && git commit -qm init
git push -q origin main
"$WB" init >/dev/null
hyperfine --warmup 1 --runs 5 --export-json "$RESULTS/lfs_run.json" \
  -n "run, ${size} MiB output hash-only (baseline)" "$WB run hashonly" \
  -n "run, ${size} MiB output into git LFS" "$WB run inlfs"
ratio "$RESULTS/lfs_run.json"
# push: the records and one LFS object per run not yet on the remote
hyperfine --runs 5 --export-json "$RESULTS/lfs_push.json" \
  --prepare "$WB run inlfs >/dev/null" \
  -n "push of one new run with a ${size} MiB LFS object" "$WB push origin"
ratio "$RESULTS/lfs_push.json"
out="$WORK/lfs-out"
hyperfine --runs 5 --export-json "$RESULTS/lfs_checkout.json" \
  --prepare "rm -rf $out" \
  -n "cp of the same ${size} MiB (baseline)" "mkdir -p $out && cp data/big.bin $out/" \
  -n "checkout from the local LFS store (hashed, copied, verified)" "$WB checkout inlfs@latest --to $out"
ratio "$RESULTS/lfs_checkout.json"
