#!/usr/bin/env bash
# Builds the large benchmark repository: STAGES stages, RUNS run records over COMMITS
# code commits, in the real record format. The real `git workbench run` makes one run
# of every stage (the templates) and, at the end, the newest run of every stage and
# the review states; bench/make_large_repo.py writes everything in between through
# `git fast-import` (100,000 records in about a minute, where `run` would take hours).
# Refs end packed, as `run`'s automatic packing keeps them.
# Usage: make_large_repo.sh DIR [STAGES=50] [RUNS=100000] [COMMITS=100]
source "$(dirname "$0")/common.sh"
dir=$1; stages=${2:-50}; runs=${3:-100000}; commits=${4:-100}
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
git init -q -b main
mkdir -p data scripts
head -c $((8 * 1024 * 1024)) /dev/urandom > data/shared.bin
{
  echo "defaults:"; echo "  seed: 1"
  for s in $(seq 1 "$stages"); do echo "stage$s:"; echo "  lr: 0.$s"; echo "  depth: $s"; done
} > params.yaml
for s in $(seq 1 "$stages"); do
  # shellcheck disable=SC2016 # expanded by the stage's shell
  printf 'mkdir -p "$WORKBENCH_RUN_DIR" && echo '"'"'{"loss": 0.5, "acc": 0.%s}'"'"' > "$WORKBENCH_RUN_DIR/metrics.json"\n' "$s" > "scripts/stage$s.sh"
  head -c 4096 /dev/urandom > "data/input$s.bin"
  cat >> workbench.toml <<TOML
[stages.stage$s]
cmd = "sh scripts/stage$s.sh"
deps = ["data/shared.bin", "data/input$s.bin"]
outs = ["runs/{run_id}/metrics.json"]
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["stage$s.*", "defaults.seed"] }

TOML
done
printf 'runs/*/\n' > .gitignore
git add -A && git commit -qm "large analysis"
"$WB" init >/dev/null
for s in $(seq 1 "$stages"); do "$WB" run "stage$s" >/dev/null; done
for c in $(seq 2 "$commits"); do
  echo "$c" > scripts/version.txt
  git add -A && git commit -qm "change $c"
done
python3 "$BENCH_DIR/make_large_repo.py" "$dir" "$(( runs - 2 * stages ))"
# The newest run of every stage is of the current code, so status is not dominated by
# "code changed" reasons; stages 1-10 approved, 11-20 presented and awaiting a
# decision, 21-25 rejected, 26-30 reviewed only.
for s in $(seq 1 "$stages"); do "$WB" run "stage$s" >/dev/null; done
for s in $(seq 1 30); do
  [ "$s" -le "$stages" ] || break
  "$WB" review "stage$s@latest" >/dev/null
  if [ "$s" -le 20 ]; then "$WB" card "stage$s@latest" -m "draft" >/dev/null 2>&1; fi
  if [ "$s" -le 10 ]; then "$WB" approve "stage$s@latest" --yes >/dev/null; fi
  if [ "$s" -gt 20 ] && [ "$s" -le 25 ]; then "$WB" reject "stage$s@latest" --issue "try again" --suggest "stage$s.lr=0.5" >/dev/null; fi
done
git pack-refs --all
echo "built $dir: $(git for-each-ref refs/workbench/runs/ | wc -l) runs"
