# Shared set-up for the benchmark scripts: a release binary and a fixed environment.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
# WB=... runs another build (the one before a change); then nothing is built.
WB="${WB:-}"
RESULTS="${RESULTS:-$BENCH_DIR/results}"
WORK="${WORK:-${TMPDIR:-/tmp}/workbench-bench}"
mkdir -p "$RESULTS" "$WORK"
command -v hyperfine >/dev/null || { echo "hyperfine is required (apt-get install hyperfine)" >&2; exit 2; }
if [ -z "$WB" ]; then
  WB="$ROOT/target/release/git-workbench"
  (cd "$ROOT" && cargo build --release --locked -q)
fi
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
    print(f"  {x['command']}: mean {x['mean']*1000:.2f} ms ± {(x['stddev'] or 0)*1000:.2f} (min {x['min']*1000:.2f})"
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

# pair NAME FILE ARGS...: the same command by the build $OLD and the current one,
# timed in both orders (hyperfine times one after the other, so a machine that speeds
# up or slows down favours one order); prints the mean of the two orders and the
# ratio. PREPARE, when set, runs before every timing.
pair() {
  local name=$1 file=$2; shift 2
  local prep=()
  [ -n "${PREPARE:-}" ] && prep=(--prepare "$PREPARE")
  # hyperfine times one command after the other, so a machine that speeds up or slows
  # down favours one order: time both orders and report the mean of the two.
  hyperfine -N --warmup 5 --runs "${RUNS:-40}" "${prep[@]}" --export-json "$RESULTS/$file.json" \
    -n "before: $name" "$OLD $*" -n "after: $name" "$WB $*" >/dev/null
  hyperfine -N --warmup 5 --runs "${RUNS:-40}" "${prep[@]}" --export-json "$RESULTS/$file.swapped.json" \
    -n "after: $name" "$WB $*" -n "before: $name" "$OLD $*" >/dev/null
  python3 - "$RESULTS/$file.json" "$RESULTS/$file.swapped.json" <<'PY'
import json, sys
runs = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        runs.setdefault(r["command"], []).append(r["mean"])
(b_name, b), (a_name, a) = sorted(runs.items(), key=lambda kv: not kv[0].startswith("before"))
b, a = sum(b) / 2, sum(a) / 2
print(f"  {a_name}: {a*1000:.2f} ms vs {b*1000:.2f} ms before (both orders), ratio {a/b:.3f}")
PY
}
# fresh TEMPLATE DIR: a --prepare restoring DIR from TEMPLATE before every timing, so
# neither build pays for the records the other left.
fresh() { # (the directory
  # itself stays, as the commands run in it)
  # (hyperfine -N runs --prepare without a shell too)
  echo "sh -c 'find $2 -mindepth 1 -delete && cp -a $1/. $2/'"
}

# large_repo [RUNS=100000]: path of the 50-stage repository with RUNS runs over 100 code
# commits, written by bench/make_large_repo.sh (fast-import), built on first use.
large_repo() {
  local runs=${1:-100000}
  local repo="$WORK/large-$runs"
  if [ ! -f "$repo/.built" ]; then
    bash "$BENCH_DIR/make_large_repo.sh" "$repo" 50 "$runs" 100 >&2
    touch "$repo/.built"
  fi
  echo "$repo"
}
