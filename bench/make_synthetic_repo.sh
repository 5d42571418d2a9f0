#!/usr/bin/env bash
# Builds the status benchmark repository: STAGES stages and RUNS recorded runs, made by
# the real `git workbench run`, spread over COMMITS code commits.
# Usage: make_synthetic_repo.sh DIR [STAGES=50] [RUNS=10000] [COMMITS=100]
source "$(dirname "$0")/common.sh"
dir=$1; stages=${2:-50}; runs=${3:-10000}; commits=${4:-100}
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
git init -q -b main
mkdir -p data scripts
head -c $((8 * 1024 * 1024)) /dev/urandom > data/shared.bin
{
  echo "defaults:"; echo "  seed: 1"
  for s in $(seq 1 "$stages"); do echo "stage$s:"; echo "  lr: 0.$s"; echo "  depth: $s"; done
} > params.yaml
for s in $(seq 1 "$stages"); do
  printf 'mkdir -p "$WORKBENCH_RUN_DIR" && echo stage %s > "$WORKBENCH_RUN_DIR/out.txt"\n' "$s" > "scripts/stage$s.sh"
  head -c 4096 /dev/urandom > "data/input$s.bin"
  cat >> workbench.toml <<TOML
[stages.stage$s]
cmd = "sh scripts/stage$s.sh"
deps = ["data/shared.bin", "data/input$s.bin"]
outs = ["runs/{run_id}/out.txt"]
params = { file = "params.yaml", keys = ["stage$s.*", "defaults.seed"] }

TOML
done
printf 'runs/*/\n' > .gitignore
git add -A && git commit -qm "synthetic analysis"
"$WB" init >/dev/null
per_commit=$(( runs / commits ))
for c in $(seq 1 "$commits"); do
  for i in $(seq 1 "$per_commit"); do
    s=$(( (i + c) % stages + 1 ))
    echo "stage$s"
  done | xargs -P 2 -I{} "$WB" run {} >/dev/null 2>&1
  echo "$c" > scripts/version.txt
  git add -A && git commit -qm "change $c"
done
# Every stage's latest run is of the current code, so status is not dominated by
# "code changed" reasons.
for s in $(seq 1 "$stages"); do "$WB" run "stage$s" >/dev/null 2>&1; done
# Walk part of the loop so next/status see every state: stages 1-10 approved,
# 11-20 presented and awaiting a decision, 21-25 rejected, 26-30 reviewed only.
for s in $(seq 1 30); do
  [ "$s" -le "$stages" ] || break
  "$WB" review "stage$s@latest" >/dev/null
  if [ "$s" -le 20 ]; then "$WB" card "stage$s@latest" -m "draft" >/dev/null 2>&1; fi
  if [ "$s" -le 10 ]; then "$WB" approve "stage$s@latest" --yes >/dev/null; fi
  if [ "$s" -gt 20 ] && [ "$s" -le 25 ]; then "$WB" reject "stage$s@latest" --issue "try again" --suggest "stage$s.lr=0.5" >/dev/null; fi
done
echo "built $dir: $(git for-each-ref refs/workbench/runs/ | wc -l) runs"
