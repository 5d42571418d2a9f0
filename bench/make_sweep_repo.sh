#!/usr/bin/env bash
# Builds a compare benchmark repository: STAGES stages, each swept over two params with
# a long shared prefix (STAGE.model.optimizer.learning_rate in range(LR) x
# STAGE.model.optimizer.weight_decay in range(WD)), STAGES x LR x WD recorded runs made
# by the real `git workbench sweep -j 2` (a sweep records runs much faster than one
# `run` process each: 10,000 runs in about 12 minutes on the bench machine). Each stage
# has its own param keys, so with many stages the table is wide and sparse.
# Usage: make_sweep_repo.sh DIR [STAGES=1] [LR=100] [WD=100]
source "$(dirname "$0")/common.sh"
dir=$1; stages=${2:-1}; lr=${3:-100}; wd=${4:-100}
rm -rf "$dir" && mkdir -p "$dir/scripts" && cd "$dir"
git init -q -b main
cat > scripts/train.sh <<'SH'
mkdir -p "$WORKBENCH_RUN_DIR"
printf '{"loss": 0.%s, "accuracy": 0.%s, "f1": 0.5}\n' "$$" "$((RANDOM % 1000))" > "$WORKBENCH_RUN_DIR/metrics.json"
SH
for s in $(seq 1 "$stages"); do
  printf 'stage%s:\n  model:\n    optimizer:\n      learning_rate: 0\n      weight_decay: 0\n    seed: 1\n' "$s" >> params.yaml
  cat >> workbench.toml <<TOML
[stages.stage$s]
cmd = "sh scripts/train.sh"
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["stage$s.*"] }
directions = { loss = "minimize", accuracy = "maximize" }

TOML
done
printf 'runs/*/\n' > .gitignore
git add -A && git commit -qm "sweep benchmark"
"$WB" init >/dev/null
for s in $(seq 1 "$stages"); do
  "$WB" sweep "stage$s" -j 2 -p "stage$s.model.optimizer.learning_rate=range($lr)" \
    -p "stage$s.model.optimizer.weight_decay=range($wd)" >/dev/null 2>&1
done
