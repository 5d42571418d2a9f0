#!/usr/bin/env bash
# Builds the DVC-comparison history: COMMITS commits (default 200), one run per commit
# of a `train` stage with 4 params and 5 metrics, each run reviewed and approved, its
# mirror (review/train/) and runs/comparison.csv committed — the shape of the DVC
# project the issue measured `dvc metrics diff` / `metrics show -A` / `exp show` on.
# Usage: make_history_repo.sh DIR [COMMITS=200]
source "$(dirname "$0")/common.sh"
dir=$1; commits=${2:-200}
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
git init -q -b main
mkdir -p scripts
cat > scripts/train.sh <<'SH'
# metrics from the params, so every run differs
lr=$(printf '%s' "$WORKBENCH_PARAMS" | sed 's/.*"train.lr":\([0-9.]*\).*/\1/')
mkdir -p "$WORKBENCH_RUN_DIR"
awk -v lr="$lr" 'BEGIN { printf "{\"auc\": %.4f, \"loss\": %.4f, \"precision\": %.4f, \"recall\": %.4f, \"f1\": %.4f}\n", 0.5+lr/2, 1-lr/2, 0.6+lr/3, 0.9-lr/4, 0.7+lr/5 }' > "$WORKBENCH_RUN_DIR/metrics.json"
SH
cat > workbench.toml <<'TOML'
[stages.train]
cmd = "sh scripts/train.sh"
deps = ["params.yaml"]
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["train.*"] }
directions = { auc = "maximize", loss = "minimize", precision = "maximize", recall = "maximize", f1 = "maximize" }
TOML
printf 'runs/*/\n' > .gitignore
printf 'runs/comparison.csv diff=workbench-table merge=workbench-table\n' > .gitattributes
git add -A && git commit -qm "analysis"
"$WB" init >/dev/null
for c in $(seq 1 "$commits"); do
  lr=$(awk -v c="$c" 'BEGIN { printf "%.4f", (c % 97) / 100 }')
  printf 'train:\n  lr: %s\n  depth: %d\n  dropout: 0.1\n  seed: %d\n' "$lr" $(( c % 7 + 2 )) "$c" > params.yaml
  "$WB" run train >/dev/null 2>&1
  "$WB" review train@latest >/dev/null
  "$WB" approve train@latest --yes >/dev/null
  "$WB" compare -o >/dev/null 2>&1
  git add -A && git commit -qm "experiment $c"
done
