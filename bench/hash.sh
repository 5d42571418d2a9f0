#!/usr/bin/env bash
# Hashing throughput against sha256sum, both reading from the page cache:
#  1. one 1 GiB file (target: >= 90% of sha256sum's throughput)
#  2. 1,000 files of 64 KiB (target: >= 1.6x sha256sum, thanks to both cores)
# `hash --no-stat-cache` reads every byte, as `run` does for a changed file.
source "$(dirname "$0")/common.sh"
d="$WORK/hash"
mkdir -p "$d/small"
if [ ! -f "$d/big.bin" ]; then
  head -c $((1024 * 1024 * 1024)) /dev/urandom > "$d/big.bin"
fi
if [ ! -f "$d/small/999.bin" ]; then
  for i in $(seq 0 999); do head -c 65536 /dev/urandom > "$d/small/$i.bin"; done
fi
cd "$d"
cat big.bin small/* > /dev/null # warm the page cache
# openssl is a second reference when present: coreutils' sha256sum does not use the
# CPU's SHA extensions, openssl and the sha2 crate do.
extra=()
command -v openssl >/dev/null && extra=(-n 'openssl dgst 1 GiB' 'openssl dgst -sha256 big.bin')
hyperfine -N --warmup 2 --runs 10 --export-json "$RESULTS/hash_big.json" \
  -n 'sha256sum 1 GiB' 'sha256sum big.bin' \
  -n 'git-workbench hash 1 GiB' "$WB hash --no-stat-cache big.bin" \
  "${extra[@]}"
ratio "$RESULTS/hash_big.json"
hyperfine --warmup 3 --runs 30 --export-json "$RESULTS/hash_small.json" \
  -n 'sha256sum 1000 files' -n 'git-workbench hash 1000 files' \
  'sha256sum small/*.bin >/dev/null' "$WB hash --no-stat-cache small/*.bin >/dev/null"
ratio "$RESULTS/hash_small.json"
