#!/usr/bin/env python3
"""Two builds timed alternately, one command at a time, on a fresh copy of a template
repository each time: before, after, after, before, ... hyperfine times all runs of one
command and then all runs of the other, so a machine that drifts (or a file system that
slows as files are created and removed) favours one of them; alternating cancels that.

    WB_BEFORE=OLD WB_AFTER=NEW python3 bench/interleaved.py TEMPLATE N ARGS...

prints the mean, median and minimum of each and the ratios after/before."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

template, n, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
builds = {"before": os.environ["WB_BEFORE"], "after": os.environ["WB_AFTER"]}
times = {name: [] for name in builds}
work = os.path.join(tempfile.mkdtemp(), "repo")
for i in range(n):
    for name in (["before", "after"] if i % 2 == 0 else ["after", "before"]):
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(["cp", "-a", template, work], check=True)
        start = time.perf_counter()
        subprocess.run([builds[name], *args], cwd=work, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - start)
shutil.rmtree(os.path.dirname(work))
for name, t in times.items():
    print(f"  {name}: mean {statistics.mean(t) * 1000:.2f} ms, median "
          f"{statistics.median(t) * 1000:.2f} ms, min {min(t) * 1000:.2f} ms (n={n})")
mean = statistics.mean(times["after"]) / statistics.mean(times["before"])
median = statistics.median(times["after"]) / statistics.median(times["before"])
print(f"  after/before: {mean:.3f} (means), {median:.3f} (medians)")
