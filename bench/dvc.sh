#!/usr/bin/env bash
# DVC side by side (issue 15, item 4): DVC 3.67.1 and git-workbench on ONE 200-commit
# history (bench/make_dvc_history.sh: the same train script, data and params.yaml, each
# commit one experiment recorded by both tools natively), each pair timed in one
# hyperfine invocation, DVC first (the baseline of `ratio`):
#   status                dvc status                     / git workbench status
#   metrics diff          dvc metrics diff HEAD~1        / git workbench diff --metrics HEAD~1 HEAD
#   params diff           dvc params diff HEAD~1         / git workbench compare --last 2
#                           --columns 'params.*' --only-changed, and diff HEAD~1 HEAD
#                           (no exact counterpart: see docs/performance.md)
#   every experiment      dvc exp show --all-commits     / git workbench compare
#                           warm, then with both tools' caches removed before each call
#   every commit's metrics dvc metrics show -A           / git workbench compare --columns 'metrics.*'
#   the hook              dvc git-hook pre-commit        / git workbench hook pre-commit
#                           (a narrative with one block, a prose change staged)
#   a trivial stage       dvc repro -f noop              / git workbench run noop
#                           (the stage's command is `true`)
# The hook and the trivial stage run in a copy of the history (they stage or record);
# the history itself is reused across runs of this script (rebuilt when the generator
# or COMMITS changes). DVC comes from its own venv, $WORK/dvc-venv, installed on first
# use. Prints a markdown table at the end (also in $RESULTS/dvc.md).
# Environment: COMMITS (200), RUNS (10), WARMUP (2), WORK, RESULTS, WB (common.sh).
# shellcheck source=common.sh source-path=SCRIPTDIR disable=SC1091
source "$(dirname "$0")/common.sh"
start=$SECONDS
dvc_version=3.67.1
commits=${COMMITS:-200}
runs=${RUNS:-10}
warmup=${WARMUP:-2}

# DVC in its own venv, installed only when missing or another version.
venv="$WORK/dvc-venv"
installed() { "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('dvc') != sys.argv[1])" "$dvc_version" 2>/dev/null; }
if ! installed; then
  echo "installing dvc==$dvc_version into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q "dvc==$dvc_version"
  installed || { echo "dvc==$dvc_version did not install into $venv" >&2; exit 2; }
fi
DVC="$venv/bin/dvc"
# No analytics daemon, no site or global state outside $WORK (the site cache holds
# DVC's hash and index databases; the cold pair removes it).
export DVC DVC_NO_ANALYTICS=1 DVC_SITE_CACHE_DIR="$WORK/dvc-site-cache"
export DVC_GLOBAL_CONFIG_DIR="$WORK/dvc-config/global" DVC_SYSTEM_CONFIG_DIR="$WORK/dvc-config/system"

# The history, built once per (generator, COMMITS).
repo="$WORK/dvc-history"
stamp="$WORK/dvc-history.built"
want="$(sha256sum "$BENCH_DIR/make_dvc_history.sh" | cut -d' ' -f1) $commits"
if [ ! -f "$stamp" ] || [ "$(head -n1 "$stamp")" != "$want" ]; then
  rm -f "$stamp"
  echo "building $repo: $commits commits" >&2
  t0=$SECONDS
  bash "$BENCH_DIR/make_dvc_history.sh" "$repo" "$commits" >&2
  printf '%s\n%s\n' "$want" "$((SECONDS - t0))" > "$stamp"
fi
build_s=$(sed -n 2p "$stamp")
cd "$repo" || exit 2
[ -z "$(git status --porcelain)" ] || { echo "$repo has uncommitted changes; remove $stamp to rebuild" >&2; exit 2; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
machine="$cpu, $(nproc) cores, $mem RAM, $(uname -sr), $(git --version), DVC $("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('dvc'))") (Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())')), $(hyperfine --version), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $machine"
echo "history: $(git rev-list --count HEAD) commits, $(git for-each-ref refs/workbench/runs/ | wc -l) git-workbench runs, built in ${build_s} s"
echo "load at start: $load_start"

# bench NAME ARGS...: one hyperfine invocation (DVC first), its export in
# $RESULTS/dvc_NAME.json, and the ratios to DVC.
bench() {
  local name=$1; shift
  echo "== $name"
  hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$RESULTS/dvc_$name.json" "$@" >/dev/null
  ratio "$RESULTS/dvc_$name.json"
}

# Warm both tools' caches once.
"$DVC" exp show --all-commits >/dev/null 2>&1
"$WB" compare >/dev/null

bench status \
  -n 'dvc status' "$DVC status" \
  -n 'git workbench status' "$WB status"
bench metrics_diff \
  -n 'dvc metrics diff HEAD~1' "$DVC metrics diff HEAD~1" \
  -n 'git workbench diff --metrics HEAD~1 HEAD' "$WB diff --metrics HEAD~1 HEAD"
bench params_diff \
  -n 'dvc params diff HEAD~1' "$DVC params diff HEAD~1" \
  -n "git workbench compare --last 2 --columns 'params.*' --only-changed" "$WB compare --last 2 --columns 'params.*' --only-changed" \
  -n 'git workbench diff HEAD~1 HEAD' "$WB diff HEAD~1 HEAD"
bench exp_show_warm \
  -n 'dvc exp show --all-commits' "$DVC exp show --all-commits" \
  -n 'git workbench compare' "$WB compare"
# Cold: DVC's repository tmp (the exp show cache, .dvc/tmp/exps) and site cache (hash
# and index databases), and git-workbench's table cache, removed before every call.
bench exp_show_cold --prepare "rm -rf .dvc/tmp $DVC_SITE_CACHE_DIR .git/workbench/table-cache" \
  -n 'dvc exp show --all-commits (caches removed)' "$DVC exp show --all-commits" \
  -n 'git workbench compare (table cache removed)' "$WB compare"
bench metrics_show_all \
  -n 'dvc metrics show -A' "$DVC metrics show -A" \
  -n "git workbench compare --columns 'metrics.*'" "$WB compare --columns 'metrics.*'"

# The hook and the trivial stage write (the index, records, dvc.lock): in a copy.
scratch="$WORK/dvc-scratch"
rm -rf "$scratch" && cp -a "$repo" "$scratch" && cd "$scratch" || exit 2
echo 'report.md workbench-narrative' >> .gitattributes
printf '# Report\n\n' > report.md
"$WB" narrative new train report.md --metrics auc,f1 >/dev/null
git add -A && git commit -qm "report"
echo "A prose change." >> report.md && git add report.md
bench hook \
  -n 'dvc git-hook pre-commit' "$DVC git-hook pre-commit" \
  -n 'git workbench hook pre-commit (narrative staged)' "$WB hook pre-commit"
git commit -qm "prose" --no-verify
cat >> dvc.yaml <<'YAML'
  noop:
    cmd: 'true'
YAML
printf '\n[stages.noop]\ncmd = "true"\n' >> workbench.toml
"$DVC" repro -q noop && "$WB" run noop >/dev/null 2>&1
git add -A && git commit -qm "noop stage"
bench trivial_stage \
  -n 'dvc repro -f noop' "$DVC repro -f noop" \
  -n 'git workbench run noop' "$WB run noop"

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load at end: $load_end"
python3 - "$RESULTS" "$machine" "$load_start" "$load_end" "$commits" "$build_s" "$((SECONDS - start))" "$warmup" "$runs" <<'PY' | tee "$RESULTS/dvc.md"
import json, sys
results, machine, load0, load1, commits, build_s, total_s, warmup, runs = sys.argv[1:]
rows = [
    ("status", "status"),
    ("metrics diff HEAD~1", "metrics_diff"),
    ("params diff HEAD~1", "params_diff"),
    ("every experiment of every commit, warm", "exp_show_warm"),
    ("the same, caches removed", "exp_show_cold"),
    ("every commit's metrics", "metrics_show_all"),
    ("pre-commit hook", "hook"),
    ("a trivial stage (`true`)", "trivial_stage"),
]
import re
def fmt(s):
    return f"{s:.2f} s" if s >= 1 else f"{s * 1000:.0f} ms" if s >= 0.1 else f"{s * 1000:.1f} ms"
def cmd(r):  # the command as typed, without the label's note
    return re.sub(r" \(.*\)$", "", r["command"])
print(f"Machine: {machine}; load average {load0} at the start, {load1} at the end.")
print(f"History: {commits} commits, built in {build_s} s (reused once built); this script took {total_s} s.")
print(f"Each row: one hyperfine invocation, -N, {warmup} warm-ups, {runs} runs, DVC first.")
print()
print("| work | DVC | mean ± σ | git-workbench | mean ± σ | DVC ÷ git-workbench |")
print("| --- | --- | --- | --- | --- | --- |")
for label, name in rows:
    r = json.load(open(f"{results}/dvc_{name}.json"))["results"]
    d = r[0]
    for w in r[1:]:
        print(f"| {label} | `{cmd(d)}` | {fmt(d['mean'])} ± {fmt(d['stddev'] or 0)} "
              f"| `{cmd(w)}` | {fmt(w['mean'])} ± {fmt(w['stddev'] or 0)} | {d['mean'] / w['mean']:.0f}× |")
PY
