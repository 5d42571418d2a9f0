#!/usr/bin/env bash
# Runs every fuzz target (or those named), one after the other, for SECONDS each
# (default 600), in one process on one core, starting from the committed seeds
# (fuzz/seeds/<target>) and the corpus earlier runs grew (fuzz/corpus/<target>, not
# committed). Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Each target's libFuzzer output goes to fuzz/logs/<target>.log; the script prints its
# executions. A crash stops the script, its input left in fuzz/artifacts/<target>/
# (`cargo +nightly fuzz tmin <target> <file>` minimises it).
#
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
mkdir -p logs
cargo +nightly fuzz build --debug-assertions
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: ${seconds}s"
    rc=0
    cargo +nightly fuzz run --debug-assertions "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"logs/$t.log" 2>&1 || rc=$?
    grep -E "^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY)" \
        "logs/$t.log" || true
    if [ "$rc" -ne 0 ]; then
        grep -E -A3 "panicked|ERROR: libFuzzer|Test unit written" "logs/$t.log" >&2 || true
        echo "$t: crashed (exit $rc), see fuzz/logs/$t.log and fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
