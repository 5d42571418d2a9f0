#!/usr/bin/env bash
# Builds the history bench/dvc.sh times both tools on: ONE git repository, a set-up
# commit then COMMITS commits (default 200), each one experiment recorded by both tools
# natively, from the same train script, data and params.yaml:
#   - DVC: a `train` stage in dvc.yaml (deps: the script and data/train.csv; params:
#     train.lr, train.depth, train.dropout, train.seed; metrics: metrics.json, not
#     cached), reproduced with `dvc repro train`, its dvc.lock and metrics.json committed;
#   - git-workbench: the same stage in workbench.toml, `run`, `review`, `approve`, its
#     mirror (review/train/) and runs/comparison.csv committed.
# The params change on every commit (lr, depth and seed), so every experiment differs.
# DVC's analytics are off (core.analytics = false); runs/ and review/ are in .dvcignore
# so DVC never walks git-workbench's files.
# Usage: DVC=PATH/TO/dvc make_dvc_history.sh DIR [COMMITS=200]
# shellcheck source=common.sh source-path=SCRIPTDIR disable=SC1091
source "$(dirname "$0")/common.sh"
dir=$1
commits=${2:-200}
dvc=${DVC:?DVC must name the dvc program}
export DVC_NO_ANALYTICS=1
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 2
git init -q -b main
mkdir -p scripts data
# The data: 1,000 rows, the same in every commit.
awk 'BEGIN { print "id,x,y"; for (i = 1; i <= 1000; i++) printf "%d,%.4f,%.4f\n", i, (i * 37 % 101) / 100, (i * 53 % 89) / 88 }' > data/train.csv
# The train script both tools run: reads params.yaml and the data, writes the metrics
# JSON to its argument.
cat > scripts/train.sh <<'SH'
# sh scripts/train.sh OUT: five metrics from params.yaml's train.* and data/train.csv
out=$1
p() { awk -v k="$1:" '$1 == k { print $2 }' params.yaml; }
lr=$(p lr) depth=$(p depth) dropout=$(p dropout) seed=$(p seed)
mkdir -p "$(dirname "$out")"
awk -F, -v lr="$lr" -v depth="$depth" -v dropout="$dropout" -v seed="$seed" '
  NR > 1 { n++; s += $2 * $3 }
  END {
    m = s / n; d = 1 / depth
    printf "{\"auc\": %.4f, \"loss\": %.4f, \"precision\": %.4f, \"recall\": %.4f, \"f1\": %.4f}\n",
      0.5 + lr / 2 - d / 10, 1 - lr / 2 + m / 10, 0.6 + lr / 3 - dropout / 10, 0.9 - lr / 4 + (seed % 10) / 1000, 0.7 + lr / 5 - d / 20
  }' data/train.csv > "$out"
SH
cat > dvc.yaml <<'YAML'
stages:
  train:
    cmd: sh scripts/train.sh metrics.json
    deps:
    - scripts/train.sh
    - data/train.csv
    params:
    - train.lr
    - train.depth
    - train.dropout
    - train.seed
    metrics:
    - metrics.json:
        cache: false
YAML
cat > workbench.toml <<'TOML'
[stages.train]
cmd = 'sh scripts/train.sh "$WORKBENCH_RUN_DIR/metrics.json"'
deps = ["data/train.csv"]
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["train.*"] }
directions = { auc = "maximize", loss = "minimize", precision = "maximize", recall = "maximize", f1 = "maximize" }
TOML
params() { # params COMMIT: the params.yaml of experiment COMMIT
  local lr
  lr=$(awk -v c="$1" 'BEGIN { printf "%.4f", (c % 97) / 100 }')
  printf 'train:\n  lr: %s\n  depth: %d\n  dropout: 0.1\n  seed: %d\n' "$lr" $(($1 % 7 + 2)) "$1" > params.yaml
}
params 0
printf 'runs/*/\n' > .gitignore
printf 'runs/comparison.csv diff=workbench-table merge=workbench-table\n' > .gitattributes
"$dvc" init -q
"$dvc" config core.analytics false
printf '/runs/\n/review/\n' >> .dvcignore
"$WB" init >/dev/null
git add -A && git commit -qm "analysis: the train stage for DVC and git-workbench"
for c in $(seq 1 "$commits"); do
  params "$c"
  "$dvc" repro -q train
  "$WB" run train >/dev/null 2>&1
  "$WB" review train@latest >/dev/null
  "$WB" approve train@latest --yes >/dev/null
  "$WB" compare -o >/dev/null 2>&1
  git add -A && git commit -qm "experiment $c: lr $(awk '$1 == "lr:" { print $2 }' params.yaml)"
done
