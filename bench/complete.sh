#!/usr/bin/env bash
# Dynamic completion (docs/git.md) on the sweep repository of bench/compare.sh (50
# stages, 10,000 runs, 50 sweeps): what one TAB costs for a RUN (all ids, then a typed
# prefix), a STAGE, and `compare --sweep` (which reads every manifest), against
# `git for-each-ref` over the same run refs.
source "$(dirname "$0")/common.sh"
sweep="$WORK/sweep-wide"
if [ ! -f "$sweep/.built" ]; then
  bash "$BENCH_DIR/make_sweep_repo.sh" "$sweep" 50 20 10 >&2
  touch "$sweep/.built"
fi
cd "$sweep"
tab() { # tab INDEX WORDS...: the command bash's registration runs at a TAB
  local index=$1; shift
  echo "env _CLAP_IFS=, GIT_WORKBENCH_COMPLETE=bash _CLAP_COMPLETE_INDEX=$index _CLAP_COMPLETE_COMP_TYPE=9 _CLAP_COMPLETE_SPACE=false $WB -- git-workbench $*"
}
prefix=$(git for-each-ref --count=1 --format='%(refname:lstrip=4)' refs/workbench/runs/ | cut -c1-12)
hyperfine -N --warmup 3 --runs 30 --export-json "$RESULTS/complete.json" \
  -n 'git for-each-ref refs/workbench/runs (baseline)' 'git for-each-ref refs/workbench/runs/' \
  -n 'show <TAB> (every run id)' "$(tab 2 show \"\")" \
  -n "show $prefix<TAB>" "$(tab 2 show "$prefix")" \
  -n 'run <TAB> (stages)' "$(tab 2 run \"\")" \
  -n 'compare --sweep <TAB> (reads every manifest)' "$(tab 3 compare --sweep \"\")"
ratio "$RESULTS/complete.json"
