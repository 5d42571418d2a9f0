#!/usr/bin/env bash
# What the params view costs (issue 12, item 3): `run s -p n=2`, whose command runs in a
# view of the tree (the params file rendered, a link made for every top-level entry,
# then every entry judged and the view removed), against `run s`, which runs in the
# tree, on the same stage of a tree of 1,000 top-level entries (ENTRIES=N for another
# size), in the same hyperfine invocation. Both record a run; the difference of the
# means is the view's cost. WORK=/dev/shm/... puts the repository on a tmpfs, which
# separates the file system's cost of creating 1,000 links from the view's own work.
# hyperfine times one command after the other and the repository grows by a run per
# timing, so both orders are timed and averaged.
source "$(dirname "$0")/common.sh"
repo="$WORK/params-view"
rm -rf "$repo" && mkdir -p "$repo" && cd "$repo"
git init -q -b main
entries=${ENTRIES:-1000}
dirs=$((entries / 10))
for i in $(seq -w 1 $((entries - dirs - 4))); do echo "$i" > "f$i.txt"; done
for i in $(seq -w 1 "$dirs"); do mkdir "d$i" && echo x > "d$i/x"; done
printf 'n: 1\nlr: 0.1\n' > params.yaml
printf '[stages.s]\ncmd = "true"\nparams = { file = "params.yaml", keys = ["n", "lr"] }\n' > workbench.toml
printf 'runs/*/\n' > .gitignore
git add -A && git commit -qm tree
"$WB" init >/dev/null
echo "top-level entries: $(ls -A | wc -l) (.git included)"
runs=${RUNS:-60}
hyperfine -N --warmup 5 --runs "$runs" --export-json "$RESULTS/params_view.json" \
  -n 'run s (in the tree)' "$WB run s" -n 'run s -p n=2 (in a view)' "$WB run s -p n=2" >/dev/null
hyperfine -N --warmup 5 --runs "$runs" --export-json "$RESULTS/params_view.swapped.json" \
  -n 'run s -p n=2 (in a view)' "$WB run s -p n=2" -n 'run s (in the tree)' "$WB run s" >/dev/null
python3 - "$RESULTS/params_view.json" "$RESULTS/params_view.swapped.json" <<'PY'
import json, sys
runs = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        runs.setdefault(r["command"], []).append((r["mean"], r["stddev"]))
tree = runs["run s (in the tree)"]
view = runs["run s -p n=2 (in a view)"]
mean = lambda xs: sum(m for m, _ in xs) / len(xs)
for name, xs in runs.items():
    print(f"  {name}: mean {mean(xs)*1000:.2f} ms (orders: {', '.join(f'{m*1000:.2f} ± {s*1000:.2f}' for m, s in xs)})")
print(f"  the view's cost (create + finish, rendering included): {(mean(view) - mean(tree))*1000:+.2f} ms, ratio {mean(view)/mean(tree):.3f}")
PY
