#!/usr/bin/env bash
# `review` of a run whose output is a ~1 GB CSV (25 million rows), against `wc -l` on the
# same file (target: >= 50% of its throughput). Measured twice: with the digest the
# run left in the stat cache (the normal case), and with the stat cache removed
# before every review, so the output is hashed again as well.
source "$(dirname "$0")/common.sh"
repo="$WORK/review"
if [ ! -f "$repo/.built" ]; then
  rm -rf "$repo" && mkdir -p "$repo" && cd "$repo"
  git init -q -b main
  cat > workbench.toml <<'TOML'
[stages.big]
cmd = "mkdir -p $WORKBENCH_RUN_DIR && yes 12345,0.123456,7.891011,some_label,42 | head -n 25000000 > $WORKBENCH_RUN_DIR/big.csv"
outs = ["runs/{run_id}/big.csv"]
TOML
  printf 'runs/*/\n' > .gitignore
  git add -A && git commit -qm init
  "$WB" run big >/dev/null 2>&1
  touch .built
fi
cd "$repo"
csv=$(ls runs/*/big.csv | head -n 1)
cat "$csv" >/dev/null
"$WB" review big@latest >/dev/null || true
hyperfine -N --warmup 2 --runs 15 --export-json "$RESULTS/review.json" \
  -n 'wc -l (950 MB)' "wc -l $csv" \
  -n 'git workbench review (950 MB CSV)' "$WB review big@latest"
ratio "$RESULTS/review.json"
hyperfine --warmup 1 --runs 8 --export-json "$RESULTS/review_cold_cache.json" \
  --prepare 'rm -f .git/workbench/stat-cache' \
  -n 'wc -l (950 MB)' "wc -l $csv" \
  -n 'review, stat cache removed' "$WB review big@latest >/dev/null"
ratio "$RESULTS/review_cold_cache.json"
