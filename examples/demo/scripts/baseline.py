#!/usr/bin/env python3
"""Stage baseline: alert when load exceeds `threshold` x its trailing mean.

Reads its params from WORKBENCH_PARAMS (set by `git workbench run`) and writes
alerts.csv and metrics.json into WORKBENCH_RUN_DIR. Standard library only.
"""
import csv
import json
import os
from pathlib import Path

params = json.loads(os.environ["WORKBENCH_PARAMS"])
threshold = float(params["baseline.threshold"])
window = int(params["baseline.window"])
out = Path(os.environ["WORKBENCH_RUN_DIR"])
out.mkdir(parents=True, exist_ok=True)

rows = list(csv.DictReader(open("data/incidents.csv")))
loads = [float(r["load"]) for r in rows]
tp = fp = fn = 0
with open(out / "alerts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["hour", "load", "trailing_mean", "alert", "incident"])
    for i, r in enumerate(rows):
        past = loads[max(0, i - window):i] or [loads[i]]
        mean = sum(past) / len(past)
        alert = int(loads[i] > threshold * mean)
        incident = int(r["incident"])
        tp += alert and incident
        fp += alert and not incident
        fn += incident and not alert
        w.writerow([r["hour"], r["load"], f"{mean:.1f}", alert, incident])

precision = tp / (tp + fp) if tp + fp else 0.0
recall = tp / (tp + fn) if tp + fn else 0.0
metrics = {"precision": round(precision, 4), "recall": round(recall, 4), "alerts": tp + fp, "rows": len(rows)}
json.dump(metrics, open(out / "metrics.json", "w"), indent=2)
print(f"baseline: threshold={threshold} window={window} -> precision={precision:.3f} recall={recall:.3f}")
