#!/usr/bin/env bash
# Builds the compare benchmark repository: one stage swept over two params with a long
# shared prefix (model.optimizer.learning_rate x model.optimizer.weight_decay), N x N
# recorded runs made by the real `git workbench sweep -j 2` (10,000 runs in about a
# minute: a sweep records runs far faster than one `run` process each).
# Usage: make_sweep_repo.sh DIR [N=100]
source "$(dirname "$0")/common.sh"
dir=$1; n=${2:-100}
rm -rf "$dir" && mkdir -p "$dir/scripts" && cd "$dir"
git init -q -b main
cat > scripts/train.sh <<'SH'
mkdir -p "$WORKBENCH_RUN_DIR"
printf '{"loss": 0.%s, "accuracy": 0.%s, "f1": 0.5}\n' "$$" "$((RANDOM % 1000))" > "$WORKBENCH_RUN_DIR/metrics.json"
SH
cat > workbench.toml <<'TOML'
[stages.train]
cmd = "sh scripts/train.sh"
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml" }
directions = { loss = "minimize", accuracy = "maximize" }
TOML
printf 'model:\n  optimizer:\n    learning_rate: 0\n    weight_decay: 0\n  seed: 1\n' > params.yaml
printf 'runs/*/\n' > .gitignore
git add -A && git commit -qm "sweep benchmark"
"$WB" init >/dev/null
"$WB" sweep train -j 2 -p "model.optimizer.learning_rate=range($n)" \
  -p "model.optimizer.weight_decay=range($n)" >/dev/null 2>&1
