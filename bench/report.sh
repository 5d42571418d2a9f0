#!/usr/bin/env bash
# `report` over 1,000 runs of one stage (a sweep of 1,000 values: two metrics each, a
# PNG figure, reviewed-state records as `run` leaves them): the whole report written
# and swapped in. Baseline in the same run: `compare --format csv` over the same runs,
# the table the report starts from. Prints the report's size.
source "$(dirname "$0")/common.sh"
N=${N:-1000}
repo="$WORK/report$N"
if [ ! -f "$repo/.built" ]; then
  rm -rf "$repo" && mkdir -p "$repo" && cd "$repo"
  git init -q -b main
  mkdir -p scripts data
  printf 'fig:\n  lr: 1\n' > params.yaml
  python3 - <<'PY'
import struct, zlib
w = h = 32
raw = b"".join(b"\0" + bytes(((x + y) % 2) * 255 for x in range(w) for _ in range(3)) for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open("data/fig.png", "wb").write(png)
PY
  cat > scripts/fig.sh <<'SH'
set -e
mkdir -p "$WORKBENCH_RUN_DIR"
lr=$(printf '%s' "$WORKBENCH_PARAMS" | sed 's/.*"fig.lr": *\([0-9.]*\).*/\1/')
cp data/fig.png "$WORKBENCH_RUN_DIR/loss.png"
printf '{"score": %s, "loss": %s.5}' "$lr" "$lr" > "$WORKBENCH_RUN_DIR/metrics.json"
SH
  cat > workbench.toml <<'TOML'
[stages.fig]
cmd = "sh scripts/fig.sh"
outs = ["runs/{run_id}/loss.png"]
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["fig.*"] }
directions = { score = "maximize", loss = "minimize" }
TOML
  printf 'runs/*/\n' > .gitignore
  git add -A && git commit -qm "report bench" && "$WB" init >/dev/null
  "$WB" sweep fig -j 2 -p "fig.lr=$(seq -s, 1 "$N")" >/dev/null 2>&1
  touch .built
fi
cd "$repo"
"$WB" compare --format csv >/dev/null
"$WB" report >/dev/null
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-json "$RESULTS/report.json" \
  -n 'git workbench compare --format csv' "$WB compare --format csv >/dev/null" \
  -n "git workbench report ($N runs)" "$WB report >/dev/null"
ratio "$RESULTS/report.json"
echo "report size: $(du -sh runs/report | cut -f1), $(find runs/report -type f | wc -l) files; index.html $(du -h runs/report/index.html | cut -f1)"
