#!/usr/bin/env bash
# What drawing a progress bar costs: `hash --no-stat-cache` of a 512 MiB file (page
# cache warm) with stderr on a pseudo-terminal (util-linux `script`), without a bar
# (NO_COLOR=1, the baseline) and with one drawn from the start
# (WORKBENCH_PROGRESS_DELAY_MS=0), and outside any terminal.
source "$(dirname "$0")/common.sh"
command -v script >/dev/null || { echo "script is required (apt-get install util-linux)" >&2; exit 2; }
d="$WORK/progress"
mkdir -p "$d"
[ -f "$d/big.bin" ] || head -c $((512 * 1024 * 1024)) /dev/urandom > "$d/big.bin"
cd "$d"
cat big.bin > /dev/null
hyperfine --warmup 2 --runs "${RUNS:-15}" --export-json "$RESULTS/progress.json" \
  -n 'tty, no bar (NO_COLOR=1)' "NO_COLOR=1 script -qec '$WB hash --no-stat-cache big.bin >/dev/null' /dev/null" \
  -n 'tty, bar drawn' "env -u NO_COLOR TERM=xterm WORKBENCH_PROGRESS_DELAY_MS=0 script -qec '$WB hash --no-stat-cache big.bin >/dev/null' /dev/null" \
  -n 'no tty' "$WB hash --no-stat-cache big.bin >/dev/null 2>&1"
ratio "$RESULTS/progress.json"
