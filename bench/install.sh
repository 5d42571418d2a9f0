#!/usr/bin/env bash
# Installing without Rust (issue 14, item 3): the release wheel's size, `pip install`
# of it into a fresh virtualenv, and the pre-commit hook's first use with an empty
# pre-commit cache — `workbench-narratives` (language: system, builds nothing) against
# a `repo: local` hook running `true` (the framework's own cost, the baseline), and,
# with FROM_SOURCE=1, `workbench-narratives-from-source` (language: rust: pre-commit
# builds git-workbench with cargo), timed once. Needs the test virtualenv (.ci/deps:
# maturin, pre-commit).
source "$(dirname "$0")/common.sh"
venv="$ROOT/target/test-venv"
[ -x "$venv/bin/maturin" ] && [ -x "$venv/bin/pre-commit" ] || { echo "run .ci/deps first" >&2; exit 2; }
wheels="$WORK/wheels"
rm -rf "$wheels"
(cd "$ROOT" && "$venv/bin/maturin" build --release --locked --quiet -o "$wheels")
wheel=$(ls "$wheels"/*.whl)
echo "wheel: $(basename "$wheel"), $(du -k "$wheel" | cut -f1) KiB"

fresh="$WORK/fresh-venv"
hyperfine --runs 10 --export-json "$RESULTS/install_pip.json" \
  --prepare "rm -rf $fresh && python3 -m venv --without-pip $fresh" \
  -n 'python3 -m venv (baseline, in prepare: nothing)' 'true' \
  -n 'pip install the wheel (offline)' "$venv/bin/pip --python $fresh/bin/python install --quiet --no-index --no-deps $wheel"
ratio "$RESULTS/install_pip.json"
rm -rf "$fresh" && python3 -m venv "$fresh" && "$fresh/bin/pip" install --quiet --no-index --no-deps "$wheel"

# The hook repository: this checkout, committed, as pre-commit clones it.
hookrepo="$WORK/hookrepo"
rm -rf "$hookrepo" && git clone -q "$ROOT" "$hookrepo"
rev=$(git -C "$hookrepo" rev-parse HEAD)
repo="$WORK/precommit"
rm -rf "$repo" && mkdir -p "$repo" && cd "$repo" && git init -q
echo '# Report' > report.md && git add report.md && git commit -q -m init
cat > local.yaml <<YAML
repos:
  - repo: local
    hooks:
      - id: nothing
        name: nothing
        entry: "true"
        language: system
        always_run: true
YAML
cat > system.yaml <<YAML
repos:
  - repo: $hookrepo
    rev: $rev
    hooks:
      - id: workbench-narratives
YAML
sed 's/id: workbench-narratives$/id: workbench-narratives-from-source/' system.yaml > source.yaml
cache="$WORK/pre-commit-cache"
export PATH="$fresh/bin:/usr/bin:/bin"
hyperfine --runs 5 --export-json "$RESULTS/install_precommit.json" \
  --prepare "rm -rf $cache" \
  -n 'pre-commit first use: a local hook running true (baseline)' \
  "PRE_COMMIT_HOME=$cache $venv/bin/pre-commit run --all-files -c local.yaml" \
  -n 'pre-commit first use: workbench-narratives (system, wheel on PATH)' \
  "PRE_COMMIT_HOME=$cache $venv/bin/pre-commit run --all-files -c system.yaml"
ratio "$RESULTS/install_precommit.json"
if [ "${FROM_SOURCE:-0}" = 1 ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
  hyperfine --runs 1 --export-json "$RESULTS/install_from_source.json" \
    --prepare "rm -rf $cache" \
    -n 'pre-commit first use: workbench-narratives-from-source (cargo build)' \
    "PRE_COMMIT_HOME=$cache $venv/bin/pre-commit run --all-files -c source.yaml"
  ratio "$RESULTS/install_from_source.json"
fi
