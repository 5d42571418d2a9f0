# Shared set-up for the benchmark scripts: a release binary and a fixed environment.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
WB="$ROOT/target/release/git-workbench"
RESULTS="${RESULTS:-$BENCH_DIR/results}"
WORK="${WORK:-${TMPDIR:-/tmp}/workbench-bench}"
mkdir -p "$RESULTS" "$WORK"
command -v hyperfine >/dev/null || { echo "hyperfine is required (apt-get install hyperfine)" >&2; exit 2; }
(cd "$ROOT" && cargo build --release --locked -q)
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null TZ=UTC LC_ALL=C NO_COLOR=1
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com

# ratio FILE: every command's mean, and its ratio to the first (the baseline), from a
# hyperfine JSON export.
ratio() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["mean"]
for x in r:
    print(f"  {x['command']}: mean {x['mean']*1000:.2f} ms ± {x['stddev']*1000:.2f} (min {x['min']*1000:.2f})"
          f"  time ratio to baseline {x['mean']/base:.3f}, difference {(x['mean']-base)*1000:+.2f} ms")
PY
}

# synthetic_repo: path of the 50-stage, 10,000-run repository, built on first use.
synthetic_repo() {
  local repo="$WORK/synthetic"
  if [ ! -f "$repo/.built" ]; then
    bash "$BENCH_DIR/make_synthetic_repo.sh" "$repo" 50 10000 100 >&2
    touch "$repo/.built"
  fi
  echo "$repo"
}
